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


def t(key: str, lang: str = "en", **values) -> str:
    """The text for `key` in `lang` (English when missing), with {placeholders} filled in."""
    entry = TEXTS.get(key)
    if entry is None:
        return key
    text = entry.get(lang) or entry["en"]
    return text.format(**values) if values else text
