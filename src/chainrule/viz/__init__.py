"""``chainrule.viz``: loss curves, decision boundaries and computational graphs.

* ``plot_history(history, path)`` — training/validation loss and metric curves.
* ``plot_decision_boundary(model, X, y, path)`` — a classifier's regions on 2-D inputs.
* ``draw_graph(tensor, path=None)`` — the graph behind ``tensor.grad_fn``: Graphviz DOT,
  rendered to SVG/PNG when the ``dot`` program is installed, and an indented text tree.

Plots need matplotlib (``pip install 'chainrule[plot]'``), imported on first use and drawn
with the Agg backend (no display needed); ``draw_graph`` needs nothing.
"""

from .graph import Graph, draw_graph, graph_dot, graph_text
from .plots import plot_decision_boundary, plot_history

__all__ = ["Graph", "draw_graph", "graph_dot", "graph_text", "plot_decision_boundary",
           "plot_history"]
