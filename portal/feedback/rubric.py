"""The ML-engineering interview rubric: five criteria scored 1–5, each score with a one-line descriptor."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Criterion:
    key: str  # also the column name: score_<key>
    name: str
    descriptors: tuple[str, str, str, str, str]  # for scores 1..5
    practice: str  # what to practise when the score is low
    practised_in: str = "technical"  # a word in the name of the interview type that practises it

    @property
    def column(self) -> str:
        return f"score_{self.key}"

    def descriptor(self, score: int | None) -> str:
        return self.descriptors[score - 1] if score else "Not assessed in this session."


CRITERIA: tuple[Criterion, ...] = (
    Criterion(
        "python",
        "Python and coding",
        (
            "Could not write working code for simple tasks.",
            "Working code with help; shaky on core data structures and idioms.",
            "Solved the tasks with readable code and some testing habits.",
            "Clean, idiomatic, tested code; explained trade-offs unprompted.",
            "Production-quality code under time pressure, with tests and clear reasoning.",
        ),
        "Timed coding exercises in plain Python: dictionaries, generators and writing tests before refactoring.",
    ),
    Criterion(
        "ml",
        "ML fundamentals",
        (
            "Confused basic ideas such as training versus test data.",
            "Knew the vocabulary but not why models behave as they do.",
            "Explained bias and variance, overfitting and evaluation metrics correctly.",
            "Chose and justified models, metrics and validation for the problem.",
            "Deep intuition: diagnosed failure modes and proposed principled fixes.",
        ),
        "Explain out loud, with an example, bias and variance, regularisation and how to pick an evaluation metric.",
    ),
    Criterion(
        "data",
        "Data and SQL",
        (
            "Could not query or reshape data.",
            "Simple queries only; struggled with joins and aggregation.",
            "Joins, grouping and window functions with minor slips.",
            "Fluent SQL and pandas; spotted data-quality problems.",
            "Designed data models and validation that would hold up in production.",
        ),
        "Practise SQL joins, GROUP BY and window functions on a real dataset, then check the data for quality issues.",
    ),
    Criterion(
        "system_design",
        "ML system design and production",
        (
            "No picture of how a model reaches users.",
            "Named components but could not connect them.",
            "A sensible pipeline, serving API and basic monitoring.",
            "Covered deployment, monitoring for drift and failure handling with trade-offs.",
            "A complete, scalable design with clear reasoning about cost, latency and reliability.",
        ),
        "Sketch an end-to-end design: data pipeline, training, a model API, deployment and drift monitoring.",
        "system design",
    ),
    Criterion(
        "communication",
        "Communication",
        (
            "Hard to follow; did not check understanding.",
            "Understandable but rambling or too brief.",
            "Clear answers with a reasonable structure.",
            "Structured, concise, and adapted to the listener.",
            "Compelling and precise; led the conversation with confidence.",
        ),
        "Answer practice questions with a clear structure (situation, action, result) and time yourself.",
        "behavioural",
    ),
)
CRITERIA_BY_KEY = {criterion.key: criterion for criterion in CRITERIA}

READINESS = {"not_yet": "Not yet ready", "nearly": "Nearly ready", "ready": "Ready for interviews"}
