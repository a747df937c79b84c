"""Figures for the notebooks: model quality, the pipeline's graph, an execution's timeline, a tuning job.

Every function returns a matplotlib Figure (shown by Jupyter when it is a cell's last value, once
`%matplotlib inline` has loaded the inline backend) and
takes data the notebook already has: predictions, importances, a pipeline definition, the steps
of an execution, the training jobs of a tuning job. None of them calls AWS.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import networkx as nx
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Patch

STATUS_COLOURS = {
    "Succeeded": "#2ca02c",
    "Executing": "#1f77b4",
    "Starting": "#17becf",
    "Failed": "#d62728",
    "Stopping": "#ff7f0e",
    "Stopped": "#8c564b",
    "NotStarted": "#c7c7c7",
}
_NOT_RUN = "#c7c7c7"
_STEP_REFERENCE = re.compile(r"^Steps\.([^.\[]+)")


def predicted_vs_actual(predictions: pd.DataFrame, actual: str = "y_true", predicted: str = "y_pred") -> Figure:
    """Scatter of predicted against actual values of the test split, with the ideal diagonal."""
    fig = Figure(figsize=(5.5, 5))
    ax = fig.subplots()
    ax.scatter(predictions[actual], predictions[predicted], s=10, alpha=0.5)
    low = min(predictions[actual].min(), predictions[predicted].min())
    high = max(predictions[actual].max(), predictions[predicted].max())
    ax.plot([low, high], [low, high], color="grey", linestyle="--", linewidth=1, label="perfect prediction")
    ax.set(xlabel=f"actual ({actual})", ylabel=f"predicted ({predicted})", title="Predicted vs actual")
    ax.legend(loc="upper left")
    return fig


def residuals(predictions: pd.DataFrame, actual: str = "y_true", predicted: str = "y_pred") -> Figure:
    """Residuals (actual - predicted) against the prediction, and their distribution."""
    residual = predictions[actual] - predictions[predicted]
    fig = Figure(figsize=(10, 4))
    left, right = fig.subplots(1, 2)
    left.scatter(predictions[predicted], residual, s=10, alpha=0.5)
    left.axhline(0, color="grey", linestyle="--", linewidth=1)
    left.set(xlabel="predicted", ylabel="residual (actual - predicted)", title="Residuals")
    right.hist(residual, bins=30)
    right.set(xlabel="residual", ylabel="test rows", title="Residual distribution")
    fig.tight_layout()
    return fig


def feature_importance(importance: Mapping[str, float] | pd.Series, top: int = 15) -> Figure:
    """Horizontal bars of the model's feature importances, largest on top."""
    series = pd.Series(importance, dtype=float).sort_values().tail(top)
    fig = Figure(figsize=(6, 0.35 * len(series) + 1.2))
    ax = fig.subplots()
    ax.barh(series.index, series.values)
    ax.set(xlabel="importance", title="Feature importance")
    fig.tight_layout()
    return fig


def metric_by_version(versions: pd.DataFrame, metric: str = "rmse") -> Figure:
    """One metric across registered model versions (a `views.model_versions` table).

    Versions differ in the second or third digit (RMSE 2.226 against 2.261): a dot per version, each with
    its value, on an axis around the values rather than from zero, where bars would all look equal.
    """
    data = versions[metric].dropna().sort_index()
    labels = [f"v{v}" for v in data.index]
    fig = Figure(figsize=(6, 3.5))
    ax = fig.subplots()
    ax.plot(labels, data.values, marker="o", markersize=8, linestyle=":", color="#1f77b4")
    for label, value in zip(labels, data.values):
        ax.annotate(f"{value:.3f}", (label, value), textcoords="offset points", xytext=(0, 8), ha="center", fontsize=9)
    low, high = float(data.min()), float(data.max())
    margin = (high - low) * 0.35 or abs(high) * 0.01 or 0.01
    ax.set_ylim(low - margin, high + margin * 1.6)  # room above for the labels
    ax.set(
        xlabel="model package version", ylabel=f"{metric} (axis not from 0)", title=f"{metric} by registered version"
    )
    fig.tight_layout()
    return fig


def tuning_objective(
    trials: pd.DataFrame,
    objective: str,
    hyperparameters: Sequence[str],
    best: str | None = None,
    job: str = "training job",
) -> Figure:
    """A tuning job's objective against each hyperparameter it tuned, one panel per hyperparameter.

    trials: one row per training job of the tuning job (ListTrainingJobsForHyperParameterTuningJob), with
    a column per tuned hyperparameter, the objective's column and the job's name in `job`; the row whose
    job is `best` (DescribeHyperParameterTuningJob's BestTrainingJob) is drawn as a star.
    """
    fig = Figure(figsize=(4.2 * len(hyperparameters) + 0.6, 3.8))
    axes = fig.subplots(1, len(hyperparameters), sharey=True, squeeze=False)[0]
    is_best = trials[job] == best
    for ax, name in zip(axes, hyperparameters):
        ax.scatter(trials.loc[~is_best, name], trials.loc[~is_best, objective], s=40, alpha=0.7, label="training job")
        ax.scatter(
            trials.loc[is_best, name],
            trials.loc[is_best, objective],
            s=260,
            marker="*",
            color="#d62728",
            label="best training job",
        )
        ax.set(xlabel=name, title=f"{objective} by {name}")
    axes[0].set_ylabel(objective)
    axes[0].legend(loc="best", fontsize=8)
    fig.tight_layout()
    return fig


def pipeline_graph(definition: str | Mapping[str, Any]) -> nx.DiGraph:
    """The steps of a pipeline definition and what runs after what.

    An edge A -> B means B waits for A: B lists A in DependsOn, reads one of A's properties
    (a {"Get": "Steps.A...."} anywhere in its arguments), or is A's if/else branch.
    """
    if isinstance(definition, str):
        definition = json.loads(definition)
    graph = nx.DiGraph()

    def add(step: Mapping[str, Any]) -> None:
        name = step["Name"]
        graph.add_node(name, type=step.get("Type", ""))
        for upstream in step.get("DependsOn", []):
            graph.add_edge(upstream, name, kind="depends on")
        for upstream in _referenced_steps(step.get("Arguments", {})):
            if upstream != name:
                graph.add_edge(upstream, name, kind="data")
        for branch, label in (("IfSteps", "if"), ("ElseSteps", "else")):
            for child in step.get("Arguments", {}).get(branch, []):
                add(child)
                graph.add_edge(name, child["Name"], kind=label)

    for step in definition.get("Steps", []):
        add(step)
    return graph


def _referenced_steps(value: Any) -> set[str]:
    found: set[str] = set()
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key in ("IfSteps", "ElseSteps"):
                continue
            if key == "Get" and isinstance(item, str):
                match = _STEP_REFERENCE.match(item)
                if match:
                    found.add(match.group(1))
            found |= _referenced_steps(item)
    elif isinstance(value, list):
        for item in value:
            found |= _referenced_steps(item)
    return found


def pipeline_dag(
    definition: str | Mapping[str, Any], statuses: Mapping[str, str] | None = None, title: str = "Pipeline"
) -> Figure:
    """The pipeline's steps as a left-to-right graph, each coloured by its status in `statuses`.

    statuses: step name -> StepStatus (from ListPipelineExecutionSteps); steps without one
    (not run, or the branch not taken) are grey.
    """
    statuses = statuses or {}
    graph = pipeline_graph(definition)
    for layer, nodes in enumerate(nx.topological_generations(graph)):
        for node in nodes:
            graph.nodes[node]["layer"] = layer
    layers = max((d["layer"] for _, d in graph.nodes(data=True)), default=0) + 1
    positions = nx.multipartite_layout(graph, subset_key="layer") if graph else {}
    fig = Figure(figsize=(max(6.0, 2.6 * layers), 3.8))
    ax = fig.subplots()
    colours = [STATUS_COLOURS.get(statuses.get(n, ""), _NOT_RUN) for n in graph.nodes]
    nx.draw_networkx_nodes(graph, positions, ax=ax, node_color=colours, node_size=2600, node_shape="s")
    labels = {n: f"{n}\n({graph.nodes[n]['type']})" for n in graph.nodes}
    nx.draw_networkx_labels(graph, positions, labels=labels, ax=ax, font_size=8)
    solid = [(a, b) for a, b, d in graph.edges(data=True) if d["kind"] != "depends on"]
    dashed = [(a, b) for a, b, d in graph.edges(data=True) if d["kind"] == "depends on"]
    for edges, style in ((solid, "solid"), (dashed, "dashed")):
        nx.draw_networkx_edges(
            graph,
            positions,
            edgelist=edges,
            ax=ax,
            style=style,
            arrows=True,
            arrowsize=18,
            node_size=2600,
            node_shape="s",
        )
    branch_labels = {(a, b): d["kind"] for a, b, d in graph.edges(data=True) if d["kind"] in ("if", "else")}
    nx.draw_networkx_edge_labels(graph, positions, edge_labels=branch_labels, ax=ax, font_size=8)
    shown = sorted({statuses.get(n, "not run") for n in graph.nodes})
    ax.legend(
        handles=[Patch(color=STATUS_COLOURS.get(s, _NOT_RUN), label=s) for s in shown],
        loc="lower center",
        bbox_to_anchor=(0.5, -0.18),
        ncol=len(shown),
        frameon=False,
    )
    ax.set_title(f"{title} (dashed: depends_on, solid: data or branch)")
    ax.margins(0.15, 0.3)
    ax.axis("off")
    fig.tight_layout()
    return fig


def execution_timeline(
    steps: Iterable[Mapping[str, Any]], now: dt.datetime | None = None, title: str = "Execution timeline"
) -> Figure:
    """A Gantt chart of one execution's steps (ListPipelineExecutionSteps), seconds from its start."""
    rows = [s for s in steps if s.get("StartTime")]
    rows.sort(key=lambda s: s["StartTime"])
    fig = Figure(figsize=(8, 0.5 * len(rows) + 1.5))
    ax = fig.subplots()
    if not rows:
        ax.set_title(f"{title}: no step has started")
        return fig
    origin = rows[0]["StartTime"]
    now = now or dt.datetime.now(origin.tzinfo)
    for index, step in enumerate(rows):
        start = (step["StartTime"] - origin).total_seconds()
        end = ((step.get("EndTime") or now) - origin).total_seconds()
        colour = STATUS_COLOURS.get(step.get("StepStatus", ""), _NOT_RUN)
        ax.barh(index, max(end - start, 0.05), left=start, color=colour)
        ax.text(end, index, f" {end - start:.1f} s", va="center", fontsize=8)
    ax.set_yticks(range(len(rows)), [s["StepName"] for s in rows])
    ax.invert_yaxis()
    ax.set(xlabel="seconds since the first step started", title=title)
    shown = sorted({s.get("StepStatus", "") for s in rows})
    ax.legend(
        handles=[Patch(color=STATUS_COLOURS.get(s, _NOT_RUN), label=s) for s in shown], loc="upper right", fontsize=8
    )
    ax.margins(x=0.15)
    fig.tight_layout()
    return fig
