"""The label graph: co-occurrence counts and the CR-GCN normalised adjacency, worked by hand."""

import numpy as np
import pytest

from model.gcn import cooccurrence_counts, normalized_adjacency


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
