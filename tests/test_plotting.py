"""``model.plotting``: each function returns the Axes, draws on a given ``ax``, never shows.

Also the emergency flag in the posterior plot's title, ``plot_comparison`` on ``compare()``
output with one and several cases, and the network laid out by role.
"""

import subprocess
import sys

import matplotlib
import matplotlib.colors
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes
from matplotlib.container import ErrorbarContainer
from matplotlib.text import Annotation, Text

from model import compare, explain, read_vignettes
from model.plotting import (
    MUST_NOT_MISS_COLOUR,
    NAME_WIDTH,
    plot_calibration,
    plot_comparison,
    plot_explanation,
    plot_network,
    plot_posteriors,
    plot_tornado,
)

matplotlib.use("Agg")  # no window, whatever the environment's default backend

PFCN_CYCLIST = {"avid_cyclist": "yes", "pain_burning": "yes", "sitting_effect": "dominant",
                "groin_perineal_radiation": "yes", "low_back_pain": "no"}
RED_FLAG = {"pain_below_knee": "yes", "saddle_anaesthesia": "yes"}


@pytest.fixture(autouse=True)
def no_show_and_close(no_show):
    """Every test here runs under ``no_show`` (tests/conftest.py)."""


@pytest.fixture(scope="module")
def variants(bundled_model):
    return {"bundled": bundled_model,
            "more cyclists": bundled_model.with_parameter("base_rates", node="avid_cyclist", probability=0.1),
            "burning PFCN": bundled_model.with_parameter("links", parent="pfcn_neuropathy", child="pain_burning",
                                                         probability=0.9)}


@pytest.fixture(scope="module")
def calls(bundled_model, variants):
    """name -> function of ``ax`` drawing one of the three plots."""
    result = bundled_model.infer(PFCN_CYCLIST)
    table = compare(variants, PFCN_CYCLIST)
    return {
        "posteriors": lambda ax: plot_posteriors(result, ax=ax),
        "comparison": lambda ax: plot_comparison(table, ax=ax),
        "network": lambda ax: plot_network(bundled_model, ax=ax),
    }


PLOTS = ["posteriors", "comparison", "network"]


def title(ax):
    return ax.get_title(loc="left")


def names(text, model, node):
    """Whether ``text`` names ``node``: as in the CSV, with spaces, or by its label."""
    text = text.lower()
    return any(name.lower() in text for name in (node, node.replace("_", " "), model.nodes.loc[node, "label"]))


@pytest.mark.parametrize("name", PLOTS)
def test_without_ax_draws_on_a_new_figure_and_returns_its_axes(calls, name):
    assert plt.get_fignums() == []
    ax = calls[name](None)
    assert isinstance(ax, Axes)
    assert plt.get_fignums() == [ax.figure.number]
    assert ax.figure.axes == [ax]


@pytest.mark.parametrize("name", PLOTS)
def test_given_ax_is_drawn_on_and_returned_without_a_new_figure(calls, name):
    fig, (left, right) = plt.subplots(1, 2)
    ax = calls[name](right)
    assert ax is right
    assert plt.get_fignums() == [fig.number]
    assert len(fig.axes) == 2
    assert right.patches or right.lines or right.collections
    assert not (left.patches or left.lines or left.collections or left.texts)


@pytest.mark.parametrize("name", PLOTS)
def test_never_shows(calls, name):
    calls[name](None)  # the autouse fixture turns plt.show() into a failure


def test_custom_title(bundled_model, variants):
    result = bundled_model.infer(PFCN_CYCLIST)
    assert title(plot_posteriors(result, title="Case 3")) == "Case 3"
    assert title(plot_comparison(compare(variants, PFCN_CYCLIST), title="Variants")) == "Variants"
    assert title(plot_network(bundled_model, title="Network")) == "Network"


# --- plot_posteriors ------------------------------------------------------------------------------

def test_posterior_bars_are_the_result(bundled_model):
    result = bundled_model.infer(PFCN_CYCLIST)
    ax = plot_posteriors(result)
    labels = [tick.get_text() for tick in ax.get_yticklabels()]
    # highest posterior at the top: the last tick from the bottom
    assert labels == [cause.replace("_", " ") for cause in result.index[::-1]]
    priors, posteriors = ax.patches[:len(result)], ax.patches[len(result):]
    assert len(ax.patches) == 2 * len(result)
    np.testing.assert_allclose([p.get_width() for p in posteriors], result["posterior"].to_numpy()[::-1])
    np.testing.assert_allclose([p.get_width() for p in priors], result["prior"].to_numpy()[::-1])
    assert ax.get_xlim() == (0.0, 1.0)
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["prior", "posterior"]


def test_emergency_flag_is_in_the_title_when_a_red_flag_is_observed(bundled_model):
    result = bundled_model.infer(RED_FLAG)
    assert result.attrs["red_flags"] == ["saddle_anaesthesia"]
    ax = plot_posteriors(result, title="Red flag case")
    heading = title(ax)
    assert heading.startswith("Red flag case")
    assert "EMERGENCY" in heading.upper() and names(heading, bundled_model, "saddle_anaesthesia")
    [left] = [t for t in ax.get_children() if isinstance(t, Text) and t.get_text() == heading]
    assert matplotlib.colors.to_hex(left.get_color()) != "#000000"


def test_every_red_flag_is_named(bundled_model):
    result = bundled_model.infer({"saddle_anaesthesia": "yes", "bladder_bowel_dysfunction": "yes"})
    heading = title(plot_posteriors(result))
    assert names(heading, bundled_model, "saddle_anaesthesia")
    assert names(heading, bundled_model, "bladder_bowel_dysfunction")


@pytest.mark.parametrize("evidence", [{}, PFCN_CYCLIST, {"saddle_anaesthesia": "no", "bladder_bowel_dysfunction": "no"}],
                         ids=["no evidence", "cyclist", "red flags absent"])
def test_no_emergency_text_without_a_red_flag(bundled_model, evidence):
    result = bundled_model.infer(evidence)
    assert result.attrs["red_flags"] == []
    ax = plot_posteriors(result)
    shown = " ".join([title(ax), ax.get_title()] + [t.get_text() for t in ax.texts])
    assert "EMERGENCY" not in shown.upper()


def test_posteriors_does_not_change_the_result(bundled_model):
    result = bundled_model.infer(RED_FLAG)
    before = (result.copy(), dict(result.attrs))
    plot_posteriors(result)
    assert result.equals(before[0]) and result.attrs == before[1]


def with_interval(result, level=0.9):
    """``result`` with a made-up credible interval around each posterior, as ``infer(..., interval=level)`` gives."""
    out = result.copy()
    out["low"] = result["posterior"] * 0.5
    out["high"] = np.minimum(result["posterior"] * 1.5 + 0.02, 1.0)
    out.attrs = {**result.attrs, "interval": {"level": level, "draws": 100, "seed": 1}}
    return out


def test_posterior_intervals_are_error_bars_from_low_to_high(bundled_model):
    result = with_interval(bundled_model.infer(PFCN_CYCLIST))
    ax = plot_posteriors(result)
    [bars] = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    [segments] = bars.lines[2]  # one LineCollection: a horizontal segment per cause
    ends = np.array([sorted(segment[:, 0]) for segment in segments.get_segments()])
    order = result.iloc[::-1]  # drawn from the bottom
    np.testing.assert_allclose(ends, order[["low", "high"]].to_numpy())
    heights = np.array([segment[0, 1] for segment in segments.get_segments()])
    np.testing.assert_allclose(heights, [p.get_y() + p.get_height() / 2 for p in ax.patches[len(result):]])
    assert [t.get_text() for t in ax.get_legend().get_texts()][-1] == "90% credible interval"
    numbers = {t.get_text(): t.get_position()[0] for t in ax.texts}  # each number right of its interval
    for high, value in zip(order["high"], order["posterior"]):
        assert numbers[f"{value:.2f}"] >= min(high, 0.88) - 0.02


def test_no_error_bars_without_an_interval(bundled_model):
    ax = plot_posteriors(bundled_model.infer(PFCN_CYCLIST))
    assert not [c for c in ax.containers if isinstance(c, ErrorbarContainer)]


def label_of(model, node):
    return model.nodes.loc[node, "label"]


def test_the_must_not_miss_legend_swatch_is_the_bars_colour(bundled_model):
    result = bundled_model.infer({"trauma_or_fall": "high_energy"})
    assert result.attrs["must_not_miss"] == ["bone_injury"]
    legend = plot_posteriors(result).get_legend()
    [swatch] = [h for h, t in zip(legend.legend_handles, legend.get_texts()) if t.get_text() == "must not miss"]
    assert matplotlib.colors.to_hex(swatch.get_facecolor()) == MUST_NOT_MISS_COLOUR and swatch.get_hatch() == "//"


def test_labels_come_from_the_model_when_given(bundled_model, variants):
    result = bundled_model.infer(PFCN_CYCLIST)
    ticks = [t.get_text().replace("\n", " ") for t in plot_posteriors(result, labels=bundled_model).get_yticklabels()]
    assert ticks == [label_of(bundled_model, node) for node in result.index[::-1]]
    assert "Posterior femoral cutaneous nerve neuropathy" in ticks
    ticks = plot_comparison(compare(variants, PFCN_CYCLIST), labels=bundled_model).get_yticklabels()
    assert {t.get_text().replace("\n", " ") for t in ticks} == {label_of(bundled_model, n) for n in result.index}


def test_labels_as_a_mapping_and_long_ones_wrap(bundled_model):
    result = bundled_model.infer(PFCN_CYCLIST)
    ax = plot_posteriors(result, labels={"pfcn_neuropathy": "PFCN", "tumour": "A " + "very " * 10 + "long name"})
    ticks = {t.get_text() for t in ax.get_yticklabels()}
    assert "PFCN" in ticks and "lumbar disc herniation" in ticks  # unnamed nodes keep their name
    [long] = [t for t in ticks if t.startswith("A very")]
    assert long.count("\n") >= 1 and max(len(line) for line in long.split("\n")) <= NAME_WIDTH


def test_labels_must_be_a_model_or_a_mapping(bundled_model):
    with pytest.raises(ValueError, match="labels must be a model, a mapping node -> name, or None. Got 'x'"):
        plot_posteriors(bundled_model.infer({}), labels="x")


def test_explanation_tornado_and_calibration_take_labels(bundled_model):
    why = explain({"avid_cyclist": "yes", "pain_burning": "yes"}, "pfcn_neuropathy", priors=bundled_model)
    ax = plot_explanation(why, labels=bundled_model)
    assert [t.get_text() for t in ax.get_yticklabels()][1:3] == ["Burning pain = yes", "Avid cyclist = yes"]
    assert "Posterior femoral cutaneous nerve neuropathy" in ax.get_xlabel().replace("\n", " ")
    table = pd.DataFrame({"parameter": ["a"], "at_low": [0.2], "at_high": [0.7], "minimum": [0.2],
                          "maximum": [0.7], "swing": [0.5]})
    table.attrs = {"cause": "tumour", "posterior": 0.5}
    ax = plot_tornado(table, labels=bundled_model)
    assert label_of(bundled_model, "tumour") in title(ax) and label_of(bundled_model, "tumour") in ax.get_xlabel()
    calibration = pd.DataFrame({"cause": ["tumour", "bone_injury"], "count": [10, 10],
                                "mean_predicted": [0.1, 0.2], "observed_rate": [0.1, 0.2]})
    ax = plot_calibration(calibration, labels=bundled_model)
    legend = [t.get_text().replace("\n", " ") for t in ax.get_legend().get_texts()]
    assert legend == ["perfect calibration", label_of(bundled_model, "tumour"), label_of(bundled_model, "bone_injury")]


# --- plot_comparison ------------------------------------------------------------------------------

def comparison_bars(ax, n_variants):
    """Bar widths per variant (in drawing order), each in y order from the bottom.

    The legend lists the variants top to bottom as their bars stand in each group: the
    reverse of the drawing order."""
    labels = [text.get_text() for text in ax.get_legend().get_texts()][::-1]
    n = len(ax.patches) // n_variants
    return labels, {label: [p.get_width() for p in ax.patches[i * n:(i + 1) * n]] for i, label in enumerate(labels)}


def test_comparison_of_one_case_draws_each_variants_posteriors(bundled_model, variants):
    table = compare(variants, PFCN_CYCLIST)
    ax = plot_comparison(table)
    causes = [tick.get_text().replace(" ", "_") for tick in ax.get_yticklabels()]
    assert sorted(causes) == sorted(bundled_model.causes + bundled_model.complications)
    assert len(ax.patches) == len(variants) * len(causes)
    labels, bars = comparison_bars(ax, len(variants))
    assert labels == list(variants)
    for name in variants:
        expected = variants[name].infer(PFCN_CYCLIST)["posterior"]
        np.testing.assert_allclose(bars[name], expected[causes].to_numpy())


def test_comparison_of_several_cases_draws_the_mean(variants):
    cases = list(read_vignettes()["evidence"])[:4]
    table = compare(variants, cases)
    assert table["case"].nunique() == 4
    ax = plot_comparison(table)
    causes = [tick.get_text().replace(" ", "_") for tick in ax.get_yticklabels()]
    labels, bars = comparison_bars(ax, len(variants))
    assert labels == list(variants)
    for name, model in variants.items():
        mean = np.mean([model.infer(case)["posterior"][causes].to_numpy() for case in cases], axis=0)
        np.testing.assert_allclose(bars[name], mean)


def test_comparison_of_a_single_variant(bundled_model):
    ax = plot_comparison(compare({"only": bundled_model}, [PFCN_CYCLIST, RED_FLAG]))
    assert [text.get_text() for text in ax.get_legend().get_texts()] == ["only"]
    assert len(ax.patches) == len(bundled_model.causes) + len(bundled_model.complications)


# --- plot_network ---------------------------------------------------------------------------------

def node_positions(ax, nodes, name=lambda node: node.replace("_", " ")):
    """Node -> (x, y) of its label; labels sit beside their marker, so x is the column's."""
    by_label = {text.get_text().replace("\n", " "): text.get_position() for text in ax.texts}
    return {node: by_label[name(node)] for node in nodes}


def edge_artists(ax):
    """The edges of a network plot: a line from a name to a marker (an annotation without text) or an arc."""
    return [text for text in ax.texts if isinstance(text, Annotation)] + list(ax.patches)


def test_network_places_every_node_once(bundled_model):
    ax = plot_network(bundled_model)
    nodes = list(bundled_model.nodes.index)
    labels = [text.get_text() for text in ax.texts]
    for node in nodes:
        assert labels.count(node.replace("_", " ")) == 1, node
    markers = np.concatenate([collection.get_offsets() for collection in ax.collections])
    assert len(markers) == len(nodes)
    assert len({tuple(point) for point in markers}) == len(nodes)  # no two nodes on one spot
    assert len(edge_artists(ax)) == len(bundled_model.network.edges())  # arcs within a column


def test_network_is_laid_out_by_role(bundled_model):
    ax = plot_network(bundled_model)
    positions = node_positions(ax, bundled_model.nodes.index)
    x = {role: [positions[n][0] for n in getattr(bundled_model, attribute)]
         for role, attribute in [("risk_factor", "risk_factors"), ("cause", "causes"),
                                 ("complication", "complications"), ("finding", "findings")]}
    assert max(x["risk_factor"]) < min(x["cause"])
    assert max(x["cause"]) < min(x["complication"])
    assert max(x["complication"]) < min(x["finding"])
    for role, values in x.items():  # one column per role
        assert max(values) - min(values) < 1e-9, role


def test_network_edges_run_down_the_roles(bundled_model):
    """Every edge goes from a column to the same or a later one (low back pain -> leg pain worse
    than back joins two findings, drawn as an arc); one line or arc per edge of the network."""
    ax = plot_network(bundled_model)
    positions = node_positions(ax, bundled_model.nodes.index)
    roles = bundled_model.nodes["role"]
    edges = list(bundled_model.network.edges())
    assert len(edge_artists(ax)) == len(edges)
    assert len(ax.patches) == sum(roles[p] == roles[c] for p, c in edges)
    for parent, child in edges:
        if roles[parent] == roles[child]:
            assert positions[parent][0] == positions[child][0], (parent, child)
        else:
            assert positions[parent][0] < positions[child][0], (parent, child)


def test_network_shows_the_labels_when_given_the_model(bundled_model):
    ax = plot_network(bundled_model, labels=bundled_model)
    positions = node_positions(ax, bundled_model.nodes.index, name=lambda node: label_of(bundled_model, node))
    assert len(positions) == len(bundled_model.nodes)


def test_network_groups_the_findings_under_headings(bundled_model):
    ax = plot_network(bundled_model)
    positions = node_positions(ax, bundled_model.nodes.index)
    headings = {text.get_text(): text.get_position()[1] for text in ax.texts
                if text.get_text() in ("presentation", "symptoms", "signs", "tests")}
    assert list(headings) == ["presentation", "symptoms", "signs", "tests"]  # top to bottom
    assert sorted(headings.values(), reverse=True) == list(headings.values())
    kinds = bundled_model.nodes["finding_type"]
    bounds = [*headings.values(), -np.inf]
    for (heading, top), bottom in zip(headings.items(), bounds[1:]):
        members = [n for n in bundled_model.findings
                   if kinds[n] + ("" if heading == "presentation" else "s") == heading]
        assert members and all(bottom < positions[n][1] < top for n in members), heading


def crossings(positions, edges):
    """How many pairs of edges between the same two columns cross."""
    spans = [(positions[p], positions[c]) for p, c in edges if positions[p][0] != positions[c][0]]
    return sum((a[0][0], a[1][0]) == (b[0][0], b[1][0]) and (a[0][1] - b[0][1]) * (a[1][1] - b[1][1]) < 0
               for i, a in enumerate(spans) for b in spans[i + 1:])


def test_network_orders_each_column_to_uncross_edges(bundled_model):
    """The barycentre order crosses fewer edges than the order of nodes.csv (27,000 against 31,500 today)."""
    ax = plot_network(bundled_model)
    drawn = node_positions(ax, bundled_model.nodes.index)
    roles = bundled_model.nodes["role"]
    in_file = {}
    for role in set(roles):
        members = [n for n in bundled_model.nodes.index if roles[n] == role]
        in_file.update({n: (drawn[n][0], -i / len(members)) for i, n in enumerate(members)})
    edges = list(bundled_model.network.edges())
    assert crossings(drawn, edges) < 0.9 * crossings(in_file, edges)


@pytest.mark.parametrize("labels", ["names", "labels"])
def test_network_names_do_not_overlap_and_fit_the_figure(bundled_model, labels):
    ax = plot_network(bundled_model, labels=bundled_model if labels == "labels" else None)
    figure = ax.figure
    renderer = figure.canvas.get_renderer()
    figure.draw_without_rendering()
    names = [t for t in ax.texts if not isinstance(t, Annotation) and t.get_text()]
    boxes = [t.get_window_extent(renderer) for t in names]
    for i, a in enumerate(boxes):
        assert figure.bbox.contains(a.x0, a.y0) and figure.bbox.contains(a.x1, a.y1), names[i].get_text()
        for j in range(i + 1, len(boxes)):
            assert not a.overlaps(boxes[j]), (names[i].get_text(), names[j].get_text())


# --- import cost ----------------------------------------------------------------------------------

def test_importing_plotting_does_not_import_matplotlib_until_a_plot_is_drawn():
    code = ("import sys, model, model.plotting\n"
            "assert 'matplotlib' not in sys.modules, 'matplotlib imported by import model.plotting'\n"
            "import matplotlib; matplotlib.use('Agg')\n"
            "from model import load_model\n"
            "model.plotting.plot_network(load_model())\n"
            "assert 'matplotlib.pyplot' in sys.modules\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         check=False)
    assert out.returncode == 0, out.stderr
