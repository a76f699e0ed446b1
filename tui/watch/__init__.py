"""The watch board's logic, apart from its screen: `health` (the rules that flag a run, pure
functions of its data) and `board` (one refresh: which store calls, and what they give).
The screen (`tui/screens/watch.py`) only draws what these return."""
