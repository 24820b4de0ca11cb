"""The catalogue of texts a user reads, in English and Chinese; pages and the CLI both take theirs from here."""

from __future__ import annotations

LANGS = ("en", "zh")

TEXTS: dict[str, dict[str, str]] = {
    # Validation report: what is wrong, and how to fix it.
    "problem.read_error": {
        "en": "The file could not be read as a table: {detail}",
        "zh": "无法把文件读成表格：{detail}",
    },
    "fix.read_error": {
        "en": "Check that the file is a CSV/TSV, XLSX, Parquet or XES export and is not truncated.",
        "zh": "请确认文件是 CSV/TSV、XLSX、Parquet 或 XES 导出文件，且没有被截断。",
    },
    "problem.no_rows": {"en": "The file has no data rows.", "zh": "文件中没有数据行。"},
    "fix.no_rows": {
        "en": "Export the log again with its rows (a header alone is not a log).",
        "zh": "请重新导出包含数据行的日志（只有表头不构成日志）。",
    },
    "problem.malformed_rows": {
        "en": "{count:,} rows do not have the same number of fields as the header, or are not valid text.",
        "zh": "{count:,} 行的字段数与表头不一致，或不是有效文本。",
    },
    "fix.malformed_rows": {
        "en": "Quote values that contain the delimiter (\"a, b\"), or re-export the file; --drop-invalid skips these rows.",
        "zh": "请给含分隔符的值加引号（\"a, b\"），或重新导出文件；使用“丢弃无效行”可跳过这些行。",
    },
    "problem.missing_column": {
        "en": "No column was found for the {role} role. Columns in the file: {columns}.",
        "zh": "找不到“{role}”对应的列。文件中的列：{columns}。",
    },
    "fix.missing_column": {
        "en": "Choose the column yourself (--{role} COLUMN on the command line, or the mapping box on the Import page).",
        "zh": "请手动指定该列（命令行 --{role} 列名，或在导入页面的映射框中选择）。",
    },
    "problem.ambiguous_column": {
        "en": "Several columns could be the {role}: {columns}.",
        "zh": "有多个列都可能是“{role}”：{columns}。",
    },
    "fix.ambiguous_column": {
        "en": "Say which one: --{role} COLUMN on the command line, or pick it in the mapping box.",
        "zh": "请指定其中一列：命令行 --{role} 列名，或在映射框中选择。",
    },
    "problem.missing_case": {"en": "{count:,} rows have no case id.", "zh": "{count:,} 行缺少案例编号。"},
    "problem.missing_activity": {"en": "{count:,} rows have no activity.", "zh": "{count:,} 行缺少活动名称。"},
    "problem.missing_timestamp": {"en": "{count:,} rows have no timestamp.", "zh": "{count:,} 行缺少时间戳。"},
    "fix.missing_value": {
        "en": "Fill in the empty cells in the source system's export, or import with --drop-invalid to leave these rows out.",
        "zh": "请在源系统导出中补全空白单元格，或选择“丢弃无效行”跳过这些行。",
    },
    "problem.bad_timestamp": {
        "en": "{count:,} values in '{column}' are not timestamps in a format that was recognised.",
        "zh": "“{column}”列中有 {count:,} 个值不是可识别格式的时间。",
    },
    "fix.bad_timestamp": {
        "en": "Correct these values, or give the format with --format (e.g. --format '%d-%m-%Y:%H.%M'); --drop-invalid leaves these rows out.",
        "zh": "请更正这些值，或用 --format 指定格式（例如 --format '%d-%m-%Y:%H.%M'）；“丢弃无效行”可跳过这些行。",
    },
    "problem.start_after_end": {
        "en": "{count:,} rows start after they end.",
        "zh": "{count:,} 行的开始时间晚于结束时间。",
    },
    "fix.start_after_end": {
        "en": "Check whether the start and end columns are swapped in the mapping; otherwise correct these rows.",
        "zh": "请检查映射中开始列与结束列是否颠倒；否则请更正这些行。",
    },
    "problem.duplicates": {
        "en": "{count:,} rows repeat an earlier row exactly (same case, activity, timestamps, resource, department).",
        "zh": "{count:,} 行与前面的行完全重复（案例、活动、时间、执行人、部门都相同）。",
    },
    "fix.duplicates": {
        "en": "Usually an export that ran twice; --drop-duplicates keeps the first of each.",
        "zh": "通常是重复导出造成的；“删除重复行”只保留每组中的第一行。",
    },
    "problem.single_event_cases": {
        "en": "{count:,} cases have a single event (cycle time 0).",
        "zh": "{count:,} 个案例只有一个事件（周期时间为 0）。",
    },
    "fix.single_event_cases": {
        "en": "Fine for incomplete cases; check the case id column if there are many.",
        "zh": "未完成的案例属正常；若数量很多，请检查案例编号列是否选对。",
    },
    "problem.ties": {
        "en": "{count:,} events share their timestamp with another event of the same case.",
        "zh": "{count:,} 个事件与同一案例中的其他事件时间完全相同。",
    },
    "fix.ties": {
        "en": "Their order is taken from the file's row order; export with seconds (or a start column) to be exact.",
        "zh": "这些事件按文件中的行顺序排列；导出精确到秒（或带开始时间列）可避免歧义。",
    },
    "problem.before_1970": {
        "en": "{count:,} timestamps are before 1970.",
        "zh": "{count:,} 个时间早于 1970 年。",
    },
    "problem.in_future": {
        "en": "{count:,} timestamps are in the future.",
        "zh": "{count:,} 个时间晚于当前时间。",
    },
    "fix.odd_dates": {
        "en": "Often a placeholder date (1900-01-01) or a wrong day/month order; check the rows listed.",
        "zh": "常见原因是占位日期（如 1900-01-01）或日月顺序错误；请检查所列的行。",
    },
    "problem.dayfirst_assumed": {
        "en": "'{column}' has dates like {example} where day and month cannot be told apart; read as day/month.",
        "zh": "“{column}”列中的日期（如 {example}）无法区分日和月，已按“日/月”读取。",
    },
    "fix.dayfirst_assumed": {
        "en": "If they are month/day, import with --format monthfirst (or pick it on the Import page).",
        "zh": "如果实际是“月/日”，请使用 --format monthfirst（或在导入页面中选择）。",
    },
    "problem.naive_and_offset": {
        "en": "'{column}' mixes values with a UTC offset and values without; the ones without are taken as UTC.",
        "zh": "“{column}”列中既有带时区偏移的值，也有不带的；不带偏移的按 UTC 处理。",
    },
    "fix.naive_and_offset": {
        "en": "Export all timestamps in one time zone if the difference matters.",
        "zh": "如时区差异重要，请以统一时区导出所有时间。",
    },
    "problem.excluded_activities": {
        "en": "{count:,} rows of excluded activities ({activities}) were left out.",
        "zh": "已排除 {count:,} 行被排除的活动（{activities}）。",
    },
    "problem.no_start": {
        "en": "The start column '{column}' is empty: the log has no start timestamps.",
        "zh": "开始时间列“{column}”为空：该日志没有开始时间。",
    },
    "fix.none": {"en": "Nothing to do.", "zh": "无需处理。"},
    "role.case": {"en": "case id", "zh": "案例编号"},
    "role.activity": {"en": "activity", "zh": "活动"},
    "role.timestamp": {"en": "timestamp", "zh": "时间戳"},
    "role.start": {"en": "start timestamp", "zh": "开始时间"},
    "role.resource": {"en": "resource", "zh": "执行人"},
    "role.department": {"en": "department", "zh": "部门"},
    "severity.error": {"en": "error", "zh": "错误"},
    "severity.warning": {"en": "warning", "zh": "警告"},
    "severity.info": {"en": "note", "zh": "提示"},
    "import.failed": {
        "en": "Nothing was imported: the file has problems (the database is unchanged).",
        "zh": "未导入任何数据：文件存在问题（数据库未改变）。",
    },
    "label.rows": {"en": "rows", "zh": "行"},
    "label.examples": {"en": "examples", "zh": "示例"},
    "label.fix": {"en": "how to fix", "zh": "解决办法"},
}

# The dashboard's own labels.
TEXTS.update({
    "app.title": {"en": "Process diagnosis", "zh": "流程诊断"},
    "nav.data": {"en": "Data", "zh": "数据"},
    "nav.diagnose": {"en": "Diagnose", "zh": "诊断"},
    "page.import": {"en": "Import", "zh": "导入"},
    "page.overview": {"en": "Overview", "zh": "总览"},
    "side.language": {"en": "Language", "zh": "语言"},
    "side.log": {"en": "Active log", "zh": "当前日志"},
    "side.no_logs": {"en": "No logs yet: import one on the Import page.", "zh": "还没有日志：请在“导入”页面导入。"},
    "side.filter": {"en": "Filter", "zh": "筛选"},
    "side.time_range": {"en": "Time range", "zh": "时间范围"},
    "side.time_mode": {"en": "Cases that", "zh": "案例范围"},
    "mode.started": {"en": "started in the range", "zh": "在范围内开始"},
    "mode.completed": {"en": "completed in the range", "zh": "在范围内完成"},
    "mode.intersecting": {"en": "overlap the range", "zh": "与范围重叠"},
    "side.reset": {"en": "Reset filter", "zh": "重置筛选"},
    "side.kept": {"en": "{kept:,} of {total:,} cases ({share:.0%})", "zh": "保留 {kept:,} / {total:,} 个案例（{share:.0%}）"},
    "side.viewer": {"en": "Viewer mode: read only.", "zh": "查看模式：只读。"},
    "unit.hours": {"en": "{v:,.1f} h", "zh": "{v:,.1f} 小时"},
    "unit.days": {"en": "{v:,.1f} days", "zh": "{v:,.1f} 天"},
    "unit.minutes": {"en": "{v:,.0f} min", "zh": "{v:,.0f} 分钟"},
    "axis.days": {"en": "days", "zh": "天"},
    "axis.hours": {"en": "hours", "zh": "小时"},
    "ov.title": {"en": "Overview", "zh": "总览"},
    "ov.caption": {"en": "Log: {name}", "zh": "日志：{name}"},
    "kpi.cases": {"en": "Cases", "zh": "案例数"},
    "kpi.events": {"en": "Events", "zh": "事件数"},
    "kpi.activities": {"en": "Activities", "zh": "活动数"},
    "kpi.variants": {"en": "Variants", "zh": "变体数"},
    "kpi.median_cycle": {"en": "Median cycle time", "zh": "周期时间中位数"},
    "kpi.p90_cycle": {"en": "P90 cycle time", "zh": "周期时间 P90"},
    "kpi.handoffs": {"en": "Hand-offs per case", "zh": "每案例交接次数"},
    "kpi.departments": {"en": "Departments per case", "zh": "每案例涉及部门数"},
    "kpi.resources_per_case": {"en": "Resources per case", "zh": "每案例涉及人员数"},
    "help.handoffs": {
        "en": "Consecutive events of a case done by different departments (resources when the log has none).",
        "zh": "同一案例中相邻两个事件由不同部门（无部门时按执行人）完成的次数。",
    },
    "help.cycle": {"en": "Last timestamp minus first (start) timestamp of a case.", "zh": "案例最后时间减去最早（开始）时间。"},
    "ov.dist": {"en": "Cycle-time distribution", "zh": "周期时间分布"},
    "ov.dist_y": {"en": "cases", "zh": "案例数"},
    "ov.median": {"en": "median", "zh": "中位数"},
    "ov.p90": {"en": "P90", "zh": "P90"},
    "ov.weekly": {"en": "Cases started and finished per week", "zh": "每周开始与完成的案例数"},
    "ov.week": {"en": "week", "zh": "周"},
    "ov.started": {"en": "started", "zh": "开始"},
    "ov.finished": {"en": "finished", "zh": "完成"},
    "ov.by_attr": {"en": "Cycle time by {attr}", "zh": "按“{attr}”分组的周期时间"},
    "ov.attr_pick": {"en": "Group cycle time by", "zh": "周期时间分组依据"},
    "ov.no_attrs": {"en": "This log has no case attributes to group by.", "zh": "该日志没有可用于分组的案例属性。"},
    "ov.slowest": {"en": "Slowest cases", "zh": "最慢的案例"},
    "col.case": {"en": "case", "zh": "案例"},
    "col.start": {"en": "start", "zh": "开始"},
    "col.end": {"en": "end", "zh": "结束"},
    "col.cycle_days": {"en": "cycle time (days)", "zh": "周期时间（天）"},
    "col.events": {"en": "events", "zh": "事件数"},
    "ov.empty": {"en": "No case matches the filter.", "zh": "没有符合筛选条件的案例。"},
    "im.title": {"en": "Import an event log", "zh": "导入事件日志"},
    "im.intro": {
        "en": "Any table with a case id, an activity and a timestamp per row: CSV/TSV (any encoding, gzipped too), XLSX, Parquet or XES.",
        "zh": "每行含案例编号、活动和时间的任意表格：CSV/TSV（任意编码，可为 gz 压缩）、XLSX、Parquet 或 XES。",
    },
    "im.source": {"en": "Where is the file?", "zh": "文件在哪里？"},
    "im.src_upload": {"en": "Upload (up to 1 GB)", "zh": "上传（最大 1 GB）"},
    "im.src_path": {"en": "Path on the server (large files)", "zh": "服务器上的路径（大文件）"},
    "im.src_watch": {"en": "Watched folder", "zh": "监视文件夹"},
    "im.upload": {"en": "Event log file", "zh": "事件日志文件"},
    "im.path": {"en": "Full path of the file on the server", "zh": "文件在服务器上的完整路径"},
    "im.path_missing": {"en": "No file at {path}.", "zh": "{path} 不存在。"},
    "im.watch_empty": {"en": "Put files into {folder} and they appear here.", "zh": "把文件放入 {folder} 后会显示在这里。"},
    "im.watch_pick": {"en": "File in {folder}", "zh": "{folder} 中的文件"},
    "im.detected": {"en": "Detected: {kind}, encoding {encoding}, delimiter {delimiter}, {rows:,} rows.",
                    "zh": "识别结果：{kind}，编码 {encoding}，分隔符 {delimiter}，共 {rows:,} 行。"},
    "im.preview": {"en": "First rows", "zh": "前几行"},
    "im.mapping": {"en": "Column mapping", "zh": "列映射"},
    "im.mapping_help": {"en": "Proposed from the headers; change any of them.", "zh": "根据表头自动推荐，可逐项修改。"},
    "im.none": {"en": "(none)", "zh": "（无）"},
    "im.confidence": {"en": "confidence {c:.0%}", "zh": "置信度 {c:.0%}"},
    "im.formats": {"en": "Timestamps", "zh": "时间格式"},
    "im.format_of": {"en": "{role}: {label}", "zh": "{role}：{label}"},
    "im.raw": {"en": "in the file", "zh": "文件中的值"},
    "im.parsed": {"en": "read as (UTC)", "zh": "解析结果（UTC）"},
    "im.format_override": {"en": "Timestamp format (leave empty to detect)", "zh": "时间格式（留空则自动识别）"},
    "im.format_help": {
        "en": "strptime notation such as %d-%m-%Y %H:%M, or one of: iso, epoch_s, epoch_ms, excel, dayfirst, monthfirst.",
        "zh": "strptime 写法，如 %d-%m-%Y %H:%M；或以下之一：iso、epoch_s、epoch_ms、excel、dayfirst、monthfirst。",
    },
    "im.report": {"en": "Validation report", "zh": "校验报告"},
    "im.report_ok": {"en": "No problems found: {rows:,} rows, {cases:,} cases.", "zh": "未发现问题：{rows:,} 行，{cases:,} 个案例。"},
    "im.col_problem": {"en": "problem", "zh": "问题"},
    "im.col_severity": {"en": "severity", "zh": "级别"},
    "im.col_rows": {"en": "rows", "zh": "行号"},
    "im.col_examples": {"en": "examples", "zh": "示例"},
    "im.col_fix": {"en": "how to fix", "zh": "解决办法"},
    "im.exclude": {"en": "Leave out these activities (e.g. Disco's artificial Start/End)", "zh": "排除这些活动（如 Disco 的人工 Start/End）"},
    "im.mode": {"en": "Rows with errors", "zh": "有错误的行"},
    "im.strict": {"en": "Strict: import nothing", "zh": "严格：不导入"},
    "im.drop": {"en": "Drop them, import the rest", "zh": "丢弃这些行，导入其余行"},
    "im.drop_dups": {"en": "Drop exact duplicate rows", "zh": "删除完全重复的行"},
    "im.name": {"en": "Log name", "zh": "日志名称"},
    "im.go": {"en": "Import", "zh": "导入"},
    "im.progress": {"en": "Importing… {stage}", "zh": "正在导入… {stage}"},
    "im.done": {"en": "Imported '{name}': {cases:,} cases, {events:,} events.", "zh": "已导入“{name}”：{cases:,} 个案例，{events:,} 个事件。"},
    "im.blocked": {"en": "Fix the errors above or choose 'Drop them' before importing.", "zh": "请先修正上述错误，或选择“丢弃这些行”。"},
    "im.manage": {"en": "Manage logs", "zh": "管理日志"},
    "im.rename": {"en": "New name", "zh": "新名称"},
    "im.rename_go": {"en": "Rename", "zh": "重命名"},
    "im.delete": {"en": "Delete this log", "zh": "删除此日志"},
    "im.delete_confirm": {"en": "Yes, delete '{name}' and all its rows", "zh": "确认删除“{name}”及其全部数据"},
    "im.deleted": {"en": "Deleted '{name}'.", "zh": "已删除“{name}”。"},
    "im.mapping_used": {"en": "Mapping used at import", "zh": "导入时使用的映射"},
    "im.viewer": {"en": "Viewer mode: importing is switched off.", "zh": "查看模式：已关闭导入功能。"},
    "im.log_line": {"en": "{cases:,} cases, {events:,} events, imported {when}", "zh": "{cases:,} 个案例，{events:,} 个事件，导入于 {when}"},
})


def t(key: str, lang: str = "en", **values) -> str:
    """The text for `key` in `lang` (English when missing), with {placeholders} filled in."""
    entry = TEXTS.get(key)
    if entry is None:
        return key
    text = entry.get(lang) or entry["en"]
    return text.format(**values) if values else text
