"""Text to word-index sequences: wordEncoding, doc2sequence, word2ind, ind2word.

MATLAB's Text Analytics Toolbox tokenizes with ``tokenizedDocument``; in
Python a document is a list of tokens (str) that you make yourself
(``text.lower().split()`` or any tokenizer): lstmkit maps tokens to indices,
it does not tokenize.
"""

from __future__ import annotations

import math
import numbers
from collections import Counter
from typing import Any, Literal, Sequence

import numpy as np

from ._files import machine_memory
from ._validation import checked_call, _show, check_choice, fail, name_value_function


def _documents(func, documents, name="documents"):
    if isinstance(documents, str) or not isinstance(documents, (list, tuple, np.ndarray)) or (
            isinstance(documents, np.ndarray) and documents.ndim == 0):
        fail(func, f"`{name}` must be a list of documents, each a list of tokens (str), e.g. "
                   f"[text.lower().split() for text in texts]. Received: {_show(documents)}.",
             TypeError)
    out = []
    for i, doc in enumerate(documents):
        if isinstance(doc, str) or not isinstance(doc, (list, tuple, np.ndarray)) or not all(
                isinstance(t, (str, np.str_)) for t in doc):
            fail(func, f"`{name}[{i}]` must be a list of tokens (str); tokenize the text first, "
                       f"e.g. text.lower().split(). Received: {_show(doc)}.", TypeError)
        out.append([str(t) for t in doc])
    return out


class WordEncoding:
    """A vocabulary: words and their indices 1..NumWords (create it with :func:`wordEncoding`).

    Attributes
    ----------
    NumWords : int
    Vocabulary : ndarray of str
        The words, by index (``Vocabulary[k - 1]`` has index k).
    """

    def __init__(self, vocabulary):
        self.Vocabulary = np.asarray(vocabulary, dtype=str)
        self._index = {w: k + 1 for k, w in enumerate(self.Vocabulary.tolist())}

    @property
    def NumWords(self):
        return int(self.Vocabulary.size)

    def __repr__(self):
        return f"  wordEncoding with properties:\n\n      NumWords: {self.NumWords}\n" \
               f"    Vocabulary: [1×{self.NumWords} string]"


@name_value_function()
def wordEncoding(documents: Sequence[Sequence[str]], *name_value: Any,
                 Order: Literal["frequency", "first-occurrence"] = "frequency",
                 MaxNumWords: float = np.inf) -> WordEncoding:
    """A word encoding of documents, as MATLAB's ``wordEncoding``.

    Parameters
    ----------
    documents : list of lists of str
        Tokenized documents.
    Order : {'frequency', 'first-occurrence'}, default 'frequency'
        Index order: most frequent first (ties by first occurrence), or by
        first occurrence.
    MaxNumWords : int or Inf, default Inf
        Keep only this many words (the first in Order).

    Returns
    -------
    WordEncoding

    Examples
    --------
    >>> from lstmkit import wordEncoding
    >>> enc = wordEncoding([["the", "cat", "sat"], ["the", "dog"]])
    >>> enc.NumWords, enc.Vocabulary.tolist()
    (4, ['the', 'cat', 'sat', 'dog'])
    """
    func = "wordEncoding"
    docs = _documents(func, documents)
    order = check_choice(func, "Order", Order, ("frequency", "first-occurrence"))
    if not (isinstance(MaxNumWords, numbers.Real) and not isinstance(MaxNumWords, bool) and
            MaxNumWords >= 1 and (math.isinf(MaxNumWords) or float(MaxNumWords).is_integer())):
        fail(func, f"`MaxNumWords` must be a positive integer or Inf. Received: "
                   f"{_show(MaxNumWords)}.")
    first = {}
    for doc in docs:
        for token in doc:
            first.setdefault(token, len(first))
    words = list(first)
    if order == "frequency":
        counts = Counter(t for doc in docs for t in doc)
        words.sort(key=lambda w: (-counts[w], first[w]))
    if not math.isinf(MaxNumWords):
        words = words[:int(MaxNumWords)]
    return WordEncoding(words)


def _check_encoding(func, enc):
    if not isinstance(enc, WordEncoding):
        fail(func, f"`enc` must be a word encoding from wordEncoding(...). Received: "
                   f"{_show(enc)}.", TypeError)


@checked_call
def word2ind(enc: WordEncoding, words: Sequence[str]) -> np.ndarray:
    """Indices of words (NaN for words outside the vocabulary), as MATLAB's ``word2ind``.

    Parameters
    ----------
    enc : WordEncoding
    words : list of str

    Returns
    -------
    ndarray of float
        1-based indices.

    Examples
    --------
    >>> from lstmkit import word2ind, wordEncoding
    >>> word2ind(wordEncoding([["a", "b", "a"]]), ["b", "a", "z"]).tolist()
    [2.0, 1.0, nan]
    """
    _check_encoding("word2ind", enc)
    if isinstance(words, np.ndarray) and words.ndim == 1:
        words = words.tolist()
    items = [words] if isinstance(words, str) else words
    if not isinstance(items, (list, tuple)) or not all(isinstance(w, str) for w in items):
        fail("word2ind", f"`words` must be a word (str) or a list of words. Received: "
                         f"{_show(words)}.", TypeError)
    return np.array([enc._index.get(str(w), np.nan) for w in items], dtype=np.float64)


@checked_call
def ind2word(enc: WordEncoding, idx: Sequence[int]) -> np.ndarray:
    """Words of indices, as MATLAB's ``ind2word``.

    Parameters
    ----------
    enc : WordEncoding
    idx : list of int
        1-based indices from 1 to enc.NumWords.

    Returns
    -------
    ndarray of str

    Examples
    --------
    >>> from lstmkit import ind2word, wordEncoding
    >>> ind2word(wordEncoding([["a", "b", "a"]]), [2, 1]).tolist()
    ['b', 'a']
    """
    _check_encoding("ind2word", enc)
    try:
        arr = np.atleast_1d(np.asarray(idx))
    except (ValueError, TypeError):
        arr = np.array([None], dtype=object)        # ragged: refused below
    if arr.dtype.kind not in "iuf" or np.any(arr != np.round(arr)) or np.any(arr < 1) or \
            np.any(arr > enc.NumWords):
        fail("ind2word", f"`idx` must hold integers from 1 to {enc.NumWords}. Received: "
                         f"{_show(idx)}.")
    return enc.Vocabulary[arr.astype(np.int64) - 1]


@name_value_function()
def doc2sequence(enc: WordEncoding, documents: Sequence[Sequence[str]], *name_value: Any,
                 Length: str | int = "longest",
                 PaddingDirection: Literal["left", "right", "none"] = "left",
                 PaddingValue: float = 0.0,
                 UnknownWord: Literal["discard", "nan"] = "discard") -> list:
    """Word-index sequences of documents, as MATLAB's ``doc2sequence``.

    Parameters
    ----------
    enc : WordEncoding
    documents : list of lists of str
        Tokenized documents.
    Length : 'longest', 'shortest' or int, default 'longest'
        The length every sequence is padded or truncated to (truncation
        keeps the end with left padding, the start with right padding).
    PaddingDirection : {'left', 'right', 'none'}, default 'left'
        MATLAB pads to a common length; 'none' keeps each document's own
        length, which lstmkit needs (it never pads: padding with
        PaddingValue 0 feeds wordEmbeddingLayer's out-of-vocabulary vector).
    PaddingValue : float, default 0
    UnknownWord : {'discard', 'nan'}, default 'discard'
        Words outside the vocabulary are dropped, or kept as NaN.

    Returns
    -------
    list of ndarray
        One 1-by-S row of indices per document (MATLAB's cell array), the
        trainNetwork era's C-by-T layout with C = 1.

    Examples
    --------
    >>> from lstmkit import doc2sequence, wordEncoding
    >>> docs = [["the", "cat", "sat"], ["the", "dog"]]
    >>> enc = wordEncoding(docs)
    >>> [s.tolist() for s in doc2sequence(enc, docs)]
    [[[1.0, 2.0, 3.0]], [[0.0, 1.0, 4.0]]]
    >>> [s.shape for s in doc2sequence(enc, docs, PaddingDirection="none")]
    [(1, 3), (1, 2)]
    """
    func = "doc2sequence"
    _check_encoding(func, enc)
    docs = _documents(func, documents)
    direction = check_choice(func, "PaddingDirection", PaddingDirection,
                             ("left", "right", "none"))
    unknown = check_choice(func, "UnknownWord", UnknownWord, ("discard", "nan"))
    if not isinstance(PaddingValue, numbers.Real) or isinstance(PaddingValue, bool):
        fail(func, f"`PaddingValue` must be a number. Received: {_show(PaddingValue)}.",
             TypeError)
    seqs = []
    for doc in docs:
        idx = [enc._index.get(t, np.nan) for t in doc]
        if unknown == "discard":
            idx = [i for i in idx if not (isinstance(i, float) and np.isnan(i))]
        seqs.append(np.array(idx, dtype=np.float64))
    if direction == "none" or not seqs:
        return [s.reshape(1, -1) for s in seqs]
    if isinstance(Length, str):
        choice = check_choice(func, "Length", Length, ("longest", "shortest"))
        L = max(s.size for s in seqs) if choice == "longest" else min(s.size for s in seqs)
    elif isinstance(Length, numbers.Integral) and not isinstance(Length, bool) and Length >= 1:
        L = int(Length)
    else:
        fail(func, f"`Length` must be 'longest', 'shortest' or a positive integer. Received: "
                   f"{_show(Length)}.")
    if L * len(seqs) * 8 > (machine_memory() or 2 ** 40) // 2:
        fail(func, f"`Length` {L} for {len(seqs)} documents needs "
                   f"{L * len(seqs) * 8 / 2**30:,.1f} GiB, more than half this machine's memory.")
    out = []
    for s in seqs:
        s = s[-L:] if direction == "left" else s[:L]
        pad = np.full(L - s.size, float(PaddingValue))
        out.append((np.concatenate([pad, s]) if direction == "left"
                    else np.concatenate([s, pad])).reshape(1, -1))
    return out
