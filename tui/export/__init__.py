"""Export what you see: the runs table (runs or groups) and the compare diff table as CSV,
Markdown or JSON, to a file or the clipboard.

`tables` turns what a screen shows into (columns, rows) of exact values; `dialog` asks where
and how, then writes with the headless CLI's formatters (tui/cli/table_formats.py) in a worker.
A new exportable view is one function in `tables` and one `ExportDialog` call on its screen.
"""
