"""Train the "news" ranker's scorer on cnndm_train (greedy-oracle labels); numpy only.

    python bench/train_sentence_scorer.py [--data-dir ../shared/data/summ]
        [--out bot/pipeline/sentence_scorer.json]

Three stages, all on the 700 cnndm_train articles (never on the dev sets):

1. word salience: a logistic model predicting whether an article's content word (stem)
   occurs in the reference summary (:data:`bot.pipeline.rank.WORD_FEATURES`);
2. bigram salience: the same for adjacent word pairs, using stage 1 as input;
3. sentence scorer: a greedy ROUGE oracle (add the sentence that most raises ROUGE-1 +
   ROUGE-2 F1 against the reference, at most three) labels each cleaned sentence; an
   ensemble of five one-hidden-layer tanh MLPs (16 units, Adam, full batch, L2) is fitted
   on the standardised :data:`bot.pipeline.rank.FEATURES`.

The CNN training data has no titles, so headline weights cannot be learned: they are set
by hand (``TITLE_WEIGHTS``, ``WORD_IN_TITLE_WEIGHT``). A small fixed
log-position prior (``POSITION_PRIOR``) is added on top of the learned score as a light
hedge towards the lead: cnndm_dev and bbc_dev both score best with it at 0-0.2 (0.35 cost
R-1 on both), and DailyMail highlights are spread over the article, so it stays small. Only
the weights are written; the data stays outside the repo.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np
from rouge_score.tokenizers import DefaultTokenizer

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sumy.nlp.stemmers import Stemmer
from sumy.utils import get_stop_words

from bot.pipeline.rank import (
    BIGRAM_FEATURES,
    FEATURES,
    WORD_FEATURES,
    LinearModel,
    NewsRanker,
    SentenceScorer,
)
from bot.pipeline.summarize import article_paragraphs

ORACLE_SENTENCES = 3
WORD_L2 = 1.0
HIDDEN_UNITS = 16
ENSEMBLE_SEEDS = (0, 1, 2, 3, 4)
EPOCHS = 300
LEARNING_RATE = 0.02
MLP_L2 = 1e-3
POSITION_PRIOR = 0.2
TITLE_WEIGHTS = {"title_recall": 0.4, "title_precision": 0.2}
"""Hand-set weights (per nominal standard deviation) for the headline features."""
TITLE_SCALES = {"title_recall": 0.25, "title_precision": 0.25}
"""Nominal spreads for the headline features (their training spread is zero)."""
UNLEARNABLE = ("first_in_paragraph",)
"""Features the training text cannot teach: CNN/DailyMail articles come as one paragraph, so
there a paragraph start is just the first sentence; learned that way, the feature favoured
every paragraph start of paragraphed text (BBC, a DailyMail page's one-sentence paragraphs)."""
WORD_IN_TITLE_WEIGHT = 1.5
"""Hand-set log-odds bonus for a word that also appears in the headline."""


def default_data_dir() -> Path:
    """``../shared/data/summ`` next to the repo, else /work/shared/data/summ."""
    beside = Path(__file__).resolve().parents[2] / "shared" / "data" / "summ"
    return beside if beside.is_dir() else Path("/work/shared/data/summ")


def _f1(overlap: int, predicted: int, reference: int) -> float:
    if overlap == 0 or predicted == 0 or reference == 0:
        return 0.0
    precision, recall = overlap / predicted, overlap / reference
    return 2 * precision * recall / (precision + recall)


def _ngrams(tokens: list[str], n: int) -> Counter:
    return Counter(zip(*(tokens[i:] for i in range(n)), strict=False))


def greedy_oracle(sentence_tokens: list[list[str]], reference_tokens: list[str]) -> list[int]:
    """Indices the greedy ROUGE-1 + ROUGE-2 oracle picks (at most ORACLE_SENTENCES)."""
    reference = (_ngrams(reference_tokens, 1), _ngrams(reference_tokens, 2))
    sizes = (sum(reference[0].values()), sum(reference[1].values()))
    chosen: list[int] = []
    best = 0.0
    while len(chosen) < ORACLE_SENTENCES:
        best_index = None
        for index in range(len(sentence_tokens)):
            if index in chosen:
                continue
            tokens = [t for i in sorted([*chosen, index]) for t in sentence_tokens[i]]
            score = 0.0
            for n in (1, 2):
                predicted = _ngrams(tokens, n)
                overlap = sum((predicted & reference[n - 1]).values())
                score += _f1(overlap, sum(predicted.values()), sizes[n - 1])
            if score > best:
                best, best_index = score, index
        if best_index is None:
            break
        chosen.append(best_index)
    return sorted(chosen)


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float) -> tuple[np.ndarray, float]:
    """Weights and bias of an L2-regularised logistic regression (Newton/IRLS)."""
    design = np.hstack([x, np.ones((len(x), 1))])
    weights = np.zeros(design.shape[1])
    penalty = np.eye(design.shape[1]) * l2
    penalty[-1, -1] = 0.0
    for _ in range(50):
        probability = 1.0 / (1.0 + np.exp(-(design @ weights)))
        gradient = design.T @ (probability - y) + penalty @ weights
        hessian = (design * (probability * (1 - probability))[:, None]).T @ design + penalty
        step = np.linalg.solve(hessian, gradient)
        weights -= step
        if np.abs(step).max() < 1e-8:
            break
    return weights[:-1], float(weights[-1])


def fit_linear_model(
    x: np.ndarray, y: np.ndarray, fixed: dict[int, float] | None = None
) -> LinearModel:
    """A standardised logistic model; columns in ``fixed`` get the given weight instead
    (applied to the raw 0/1 value) because the data cannot teach them.
    """
    fixed = fixed or {}
    means, scales = x.mean(axis=0), x.std(axis=0)
    for column in fixed:
        means[column], scales[column] = 0.0, 1.0
    scales[scales < 1e-9] = 1.0
    free = [i for i in range(x.shape[1]) if i not in fixed]
    weights = np.zeros(x.shape[1])
    weights[free], bias = fit_logistic((x[:, free] - means[free]) / scales[free], y, WORD_L2)
    for column, weight in fixed.items():
        weights[column] = weight
    return LinearModel(weights, means, scales, bias)


def fit_mlp(
    inputs: np.ndarray, labels: np.ndarray, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """One tanh MLP fitted with Adam on binary cross-entropy (full batch)."""
    rng = np.random.default_rng(seed)
    width = inputs.shape[1]
    params = {
        "W1": rng.normal(0, 1 / np.sqrt(width), (width, HIDDEN_UNITS)),
        "b1": np.zeros(HIDDEN_UNITS),
        "w2": rng.normal(0, 1 / np.sqrt(HIDDEN_UNITS), HIDDEN_UNITS),
        "b2": np.zeros(1),
    }
    first = {k: np.zeros_like(v) for k, v in params.items()}
    second = {k: np.zeros_like(v) for k, v in params.items()}
    for step in range(1, EPOCHS + 1):
        hidden = np.tanh(inputs @ params["W1"] + params["b1"])
        logits = hidden @ params["w2"] + params["b2"][0]
        error = (1 / (1 + np.exp(-logits)) - labels) / len(labels)
        back = np.outer(error, params["w2"]) * (1 - hidden**2)
        grads = {
            "W1": inputs.T @ back + MLP_L2 * params["W1"],
            "b1": back.sum(axis=0),
            "w2": hidden.T @ error + MLP_L2 * params["w2"],
            "b2": np.array([error.sum()]),
        }
        for key, grad in grads.items():
            first[key] = 0.9 * first[key] + 0.1 * grad
            second[key] = 0.999 * second[key] + 0.001 * grad**2
            corrected = first[key] / (1 - 0.9**step)
            scale = np.sqrt(second[key] / (1 - 0.999**step)) + 1e-8
            params[key] -= LEARNING_RATE * corrected / scale
    return params["W1"], params["b1"], params["w2"], float(params["b2"][0])


def _null_linear(size: int) -> LinearModel:
    return LinearModel(np.zeros(size), np.zeros(size), np.ones(size), 0.0)


def _scorer(word: LinearModel, bigram: LinearModel) -> SentenceScorer:
    size = len(FEATURES)
    return SentenceScorer(
        word=word,
        bigram=bigram,
        means=np.zeros(size),
        scales=np.ones(size),
        learned=np.arange(size),
        members=(),
        linear=np.zeros(size),
        position_prior=0.0,
    )


def _articles(rows: list[dict]) -> list[tuple[list[str], str, frozenset[int], str]]:
    articles = []
    for row in rows:
        paragraphs = article_paragraphs(row["text"])
        sentences = [s for paragraph in paragraphs for s in paragraph]
        if len(sentences) < 2:
            continue
        starts, offset = set(), 0
        for paragraph in paragraphs:
            starts.add(offset)
            offset += len(paragraph)
        articles.append((sentences, row.get("title") or "", frozenset(starts), row["summary"]))
    return articles


def train(rows: list[dict]) -> SentenceScorer:
    """Fit all three stages on ``rows`` (dicts with ``text``, ``summary``, ``title``)."""
    stemmer, stop_words = Stemmer("english"), frozenset(get_stop_words("english"))
    articles = _articles(rows)

    # Stage 1: word salience.
    ranker = NewsRanker(
        stemmer,
        stop_words,
        _scorer(_null_linear(len(WORD_FEATURES)), _null_linear(len(BIGRAM_FEATURES))),
    )
    word_rows, word_labels, reference_keys, tokenised = [], [], [], []
    for sentences, title, _, summary in articles:
        tokens = [ranker.tokens(s) for s in sentences]
        title_keys = frozenset(t.key for t in ranker.tokens(title) if not t.stop)
        reference = ranker.tokens(summary.replace("\n", " "))
        keys, table = ranker.word_table(tokens, title_keys)
        wanted = {t.key for t in reference if not t.stop}
        word_rows.append(table)
        word_labels.append([key in wanted for key in keys])
        reference_keys.append(reference)
        tokenised.append(tokens)
    word = fit_linear_model(
        np.vstack(word_rows),
        np.concatenate(word_labels).astype(float),
        {WORD_FEATURES.index("in_title"): WORD_IN_TITLE_WEIGHT},
    )

    # Stage 2: bigram salience.
    pair_rows, pair_labels = [], []
    for (sentences, title, _, _), tokens, reference in zip(
        articles, tokenised, reference_keys, strict=True
    ):
        title_keys = frozenset(t.key for t in ranker.tokens(title) if not t.stop)
        keys, table = ranker.word_table(tokens, title_keys)
        salience = dict(zip(keys, word.probabilities(table).tolist(), strict=True))
        pairs, pair_table = ranker.bigram_table(tokens, salience)
        wanted = {(a.key, b.key) for a, b in itertools.pairwise(reference)}
        pair_rows.append(pair_table)
        pair_labels.append([pair in wanted for pair in pairs])
        del sentences
    bigram = fit_linear_model(np.vstack(pair_rows), np.concatenate(pair_labels).astype(float))

    # Stage 3: sentence scorer on oracle labels.
    ranker = NewsRanker(stemmer, stop_words, _scorer(word, bigram))
    rouge = DefaultTokenizer(use_stemmer=True)
    feature_rows, labels = [], []
    for sentences, title, starts, summary in articles:
        columns, _, _ = ranker.features(sentences, title, starts)
        oracle = set(greedy_oracle([rouge.tokenize(s) for s in sentences], rouge.tokenize(summary)))
        feature_rows.append(columns)
        labels.append([index in oracle for index in range(len(sentences))])
    x, y = np.vstack(feature_rows), np.concatenate(labels).astype(float)
    means, scales = x.mean(axis=0), x.std(axis=0)
    for name, scale in TITLE_SCALES.items():
        column = FEATURES.index(name)
        means[column], scales[column] = 0.0, scale
    scales[scales < 1e-9] = 1.0
    learned = np.array(
        [
            i
            for i, name in enumerate(FEATURES)
            if name not in TITLE_WEIGHTS and name not in UNLEARNABLE
        ]
    )
    inputs = ((x - means) / scales)[:, learned]
    members = tuple(fit_mlp(inputs, y, seed) for seed in ENSEMBLE_SEEDS)
    linear = np.zeros(len(FEATURES))
    for name, weight in TITLE_WEIGHTS.items():
        linear[FEATURES.index(name)] = weight
    print(
        f"trained on {len(articles)} articles, {len(y)} sentences, {int(y.sum())} in the oracle",
        file=sys.stderr,
    )
    return SentenceScorer(word, bigram, means, scales, learned, members, linear, POSITION_PRIOR)


def main(argv: list[str] | None = None) -> int:
    """Train on cnndm_train.jsonl and write the weights JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=default_data_dir())
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(__file__).resolve().parents[1] / "bot" / "pipeline" / "sentence_scorer.json",
    )
    args = parser.parse_args(argv)
    with (args.data_dir / "cnndm_train.jsonl").open(encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    scorer = train(rows)
    payload = {
        "about": "Scorer of bot.pipeline.rank.NewsRanker, written by "
        "bench/train_sentence_scorer.py from cnndm_train (greedy ROUGE oracle labels); "
        "headline weights and the position prior are hand-set.",
        **scorer.to_dict(),
    }
    args.out.write_text(json.dumps(payload, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
