"""Sweep charts' data: what the scatter and the parallel-coordinates views draw, from runs.

No Textual and no plotext here: `axes` turns a param/metric/tag of many runs into an axis
(numbers, or categories evenly spaced), `scatter` and `parallel` build each chart's points,
lines and the counts of runs left out, `loading` pages the runs in from the store. The
widgets draw what these return, and the unit tests check it against the store's values.
"""
