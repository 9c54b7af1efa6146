"""The label graphs (co-occurrence, harmonic) and their normalisation worked by hand; the GCN head."""

import numpy as np
import pytest
import torch

from notestream.model.gcn import (
    HARMONIC_INTERVALS,
    GCNClassifierHead,
    cooccurrence_counts,
    harmonic_adjacency,
    harmonic_edges,
    normalized_adjacency,
)


def test_cooccurrence_counts_frames_where_both_keys_sound():
    roll = np.zeros((4, 88), dtype=bool)
    roll[0, [0, 1]] = True
    roll[1, [0, 1]] = True
    roll[2, 0] = True
    counts = cooccurrence_counts([roll])
    assert counts[0, 0] == 3 and counts[1, 1] == 2 and counts[0, 1] == 2 and counts[1, 0] == 2


def test_adjacency_thresholds_conditional_probability_then_normalises():
    counts = np.zeros((88, 88))
    counts[0, 0], counts[1, 1], counts[0, 1], counts[1, 0] = 3, 2, 2, 2
    # P(1|0) = 2/3 < 0.7 -> no edge 0->1; P(0|1) = 1 >= 0.7 -> edge 1->0.
    adj = normalized_adjacency(counts, 0.7)
    degree_0, degree_1 = 1.0, 2.0  # rows of A + I: key 0 only itself, key 1 itself and key 0
    assert np.isclose(adj[1, 0], 1 / np.sqrt(degree_1 * degree_0))
    assert adj[0, 1] == 0
    assert np.isclose(adj[1, 1], 1 / degree_1) and np.isclose(adj[0, 0], 1.0)
    assert np.isclose(adj[5, 5], 1.0) and adj[5].sum() == 1.0


def test_reweighted_adjacency_keeps_each_key_its_own_share():
    counts = np.zeros((88, 88))
    counts[np.arange(88), np.arange(88)] = 10.0
    counts[0, 1] = counts[1, 0] = 9.0  # keys 0 and 1 almost always together
    counts[0, 2] = counts[2, 0] = 8.0
    adjacency = normalized_adjacency(counts, tau=0.5, reweight=0.2)
    np.testing.assert_allclose(adjacency.sum(axis=1), 1.0, rtol=1e-6)
    assert adjacency[0, 0] == pytest.approx(0.8) and adjacency[0, 1] == pytest.approx(0.1) and adjacency[0, 2] == pytest.approx(0.1)
    assert adjacency[1, 1] == pytest.approx(0.8) and adjacency[1, 0] == pytest.approx(0.2)
    assert adjacency[5, 5] == 1.0 and adjacency[5].sum() == 1.0  # no neighbours: itself only


def test_harmonic_graph_links_each_key_to_its_partials_both_ways_and_nothing_else():
    edges = harmonic_edges()
    assert np.array_equal(edges, edges.T) and np.trace(edges) == 0
    intervals = {abs(i - j) for i, j in zip(*np.nonzero(edges), strict=True)}
    assert intervals == set(HARMONIC_INTERVALS) == {12, 19, 24, 28, 31}
    assert np.flatnonzero(edges[0]).tolist() == [12, 19, 24, 28, 31]  # lowest A: only partials above
    assert np.flatnonzero(edges[87]).tolist() == [56, 59, 63, 68, 75]  # highest C: only fundamentals below
    assert edges[40].sum() == 10  # a middle key: five partials above, five fundamentals below


def test_harmonic_adjacency_is_the_symmetric_paper_normalisation():
    adjacency = harmonic_adjacency()
    degree = harmonic_edges().sum(axis=1) + 1  # rows of A + I
    np.testing.assert_allclose(adjacency, adjacency.T)
    assert adjacency[40, 52] == pytest.approx(1 / np.sqrt(degree[40] * degree[52]))
    assert adjacency[0, 0] == pytest.approx(1 / 6) and adjacency[40, 41] == 0
    assert np.linalg.eigvalsh(adjacency.astype(np.float64)).max() == pytest.approx(1.0)  # it does not blow up layer by layer


def test_harmonic_adjacency_can_be_reweighted_like_the_cooccurrence_graph():
    adjacency = harmonic_adjacency(reweight=0.2)
    np.testing.assert_allclose(adjacency.sum(axis=1), 1.0, rtol=1e-6)
    assert adjacency[0, 0] == pytest.approx(0.8) and adjacency[0, 12] == pytest.approx(0.2 / 5)


def test_residual_head_starts_as_its_free_classifiers_and_the_graph_can_learn():
    head = GCNClassifierHead(harmonic_adjacency(), embedding=6, n_heads=2, hidden=(8,), residual=True)
    assert torch.equal(head.classifiers(), head.free)
    x = torch.randn(3, 5, 6)
    expected = torch.einsum("bte,hke->hbtk", x, head.free) + head.bias[:, None, None, :]
    torch.testing.assert_close(head(x), expected)
    head(x).square().sum().backward()
    assert head.layers[-1].weight.grad.abs().sum() > 0  # zero-initialised, but not stuck at zero


def test_plain_head_keeps_the_parameters_old_checkpoints_hold():
    head = GCNClassifierHead(np.eye(88, dtype=np.float32), embedding=6, n_heads=2, hidden=(8,))
    assert head.free is None
    assert set(head.state_dict()) == {"adjacency", "bias", "layers.0.weight", "layers.1.weight"}
