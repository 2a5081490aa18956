"""Ranking metrics on small cases computed by hand."""

import math

import pytest

from matching import metrics

LOG2_3 = math.log2(3)


def test_ndcg_binary_second_of_two_relevant() -> None:
    # DCG = 1/log2(3); ideal DCG = 1 + 1/log2(3)
    value = metrics.ndcg_at(["a", "b", "c"], {"b": 1, "d": 1})
    assert value == pytest.approx((1 / LOG2_3) / (1 + 1 / LOG2_3))
    assert value == pytest.approx(0.386853, abs=1e-6)


def test_ndcg_perfect_and_graded() -> None:
    assert metrics.ndcg_at(["a", "b"], {"a": 1, "b": 1}) == pytest.approx(1.0)
    # gains 1, 2 in that order: DCG = 1 + 2/log2(3); ideal = 2 + 1/log2(3)
    assert metrics.ndcg_at(["x", "y"], {"x": 1, "y": 2}) == pytest.approx((1 + 2 / LOG2_3) / (2 + 1 / LOG2_3))
    assert metrics.ndcg_at(["x", "y"], {"x": 1, "y": 2}) == pytest.approx(0.859719, abs=1e-6)


def test_cutoffs() -> None:
    ranking = [f"n{i}" for i in range(10)] + ["hit"]  # the relevant document at rank 11
    judgements = {"hit": 1}
    assert metrics.ndcg_at(ranking, judgements, 10) == 0.0
    assert metrics.reciprocal_rank_at(ranking, judgements, 10) == 0.0
    assert metrics.recall_at(ranking, judgements, 100) == 1.0
    assert metrics.recall_at(ranking, judgements, 10) == 0.0
    # the ideal is cut at k too: 12 relevant documents, all ranked first, is a perfect nDCG@10
    many = {f"d{i}": 1 for i in range(12)}
    assert metrics.ndcg_at(list(many), many, 10) == pytest.approx(1.0)


def test_reciprocal_rank_and_recall() -> None:
    assert metrics.reciprocal_rank_at(["a", "b", "c"], {"c": 1, "b": 1}) == pytest.approx(0.5)
    assert metrics.reciprocal_rank_at(["a"], {"a": 0}) == 0.0  # grade 0 is not relevant
    assert metrics.recall_at(["a", "b", "c"], {"a": 1, "c": 2, "z": 1}) == pytest.approx(2 / 3)


def test_repeated_ids_count_once() -> None:
    assert metrics.reciprocal_rank_at(["a", "a", "b"], {"b": 1}) == pytest.approx(0.5)
    assert metrics.ndcg_at(["b", "b"], {"b": 1, "c": 1}) == pytest.approx(1 / (1 + 1 / LOG2_3))


def test_evaluate_averages_over_judged_queries() -> None:
    qrels = {"q1": {"a": 1}, "q2": {"b": 1, "c": 1}, "q3": {"x": 0}}  # q3 has nothing relevant: left out
    run = {"q1": ["z", "a"], "unjudged": ["a"]}  # q2 has no results: scores 0
    scores = metrics.evaluate(qrels, run)
    assert scores["queries"] == 2
    assert scores["mrr@10"] == pytest.approx((0.5 + 0) / 2)
    assert scores["ndcg@10"] == pytest.approx((1 / LOG2_3 + 0) / 2)
    assert scores["recall@100"] == pytest.approx((1 + 0) / 2)


def test_empty_inputs() -> None:
    assert metrics.evaluate({}, {}) == {"ndcg@10": 0.0, "recall@100": 0.0, "mrr@10": 0.0, "queries": 0.0}
    assert metrics.ndcg_at([], {"a": 1}) == 0.0


def test_reading_lines() -> None:
    qrels = metrics.qrels_from_lines(
        [{"query_id": "q1", "id": "d1", "grade": 1}, {"query_id": 7, "id": 8, "grade": 2}]
    )
    assert qrels == {"q1": {"d1": 1}, "7": {"8": 2}}
    run = metrics.run_from_lines(
        [
            {"query_id": "q1", "results": [{"id": "d2", "score": 3.0}, {"id": "d1", "score": 1.0}]},
            {"query_id": "q2", "results": []},
        ]
    )
    assert run == {"q1": ["d2", "d1"], "q2": []}
