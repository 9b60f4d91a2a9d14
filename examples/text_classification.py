"""Text classification with word embeddings: MATLAB's "Classify Text Data Using Deep Learning",
ported with syntax changes only, on a small corpus this script generates.

The corpus imitates the example's factory reports: short texts in four categories (Electronic
Failure, Leak, Mechanical Failure, Software Failure) built from category words, shared words and
noise.  As in MATLAB: tokenize, ``enc = wordEncoding(documentsTrain)``, ``doc2sequence``, then
``sequenceInputLayer(1)``, ``wordEmbeddingLayer(50, enc.NumWords)``, ``lstmLayer(80,
OutputMode="last")``, ``fullyConnectedLayer``, ``softmaxLayer``, trained with trainnet.  Python
tokenizes with ``str.split`` where MATLAB has ``tokenizedDocument``.

    python examples/text_classification.py [--quick]
"""

import argparse
import time

import numpy as np

from lstmkit import *

WORDS = {
    "Electronic Failure": ["fuse", "blown", "power", "sparks", "wiring", "short", "circuit",
                           "voltage", "burnt", "cable"],
    "Leak": ["leak", "water", "drip", "pipe", "puddle", "coolant", "oil", "seeping", "valve",
             "hose"],
    "Mechanical Failure": ["jammed", "gear", "belt", "broken", "bearing", "grinding", "stuck",
                           "arm", "noise", "motor"],
    "Software Failure": ["crash", "freeze", "error", "screen", "reboot", "update", "login",
                         "display", "bug", "frozen"],
}
COMMON = ["the", "a", "on", "in", "is", "was", "machine", "line", "scanner", "near", "after",
          "and", "of", "station", "again", "operator", "reported", "shift"]


def factory_reports(n=480, seed=0):
    r = np.random.default_rng(seed)
    classes = sorted(WORDS)
    texts, labels = [], []
    everything = sum(WORDS.values(), [])
    for _ in range(n):
        c = classes[r.integers(len(classes))]
        words = list(r.choice(WORDS[c], r.integers(2, 5))) + \
            list(r.choice(COMMON, r.integers(3, 9))) + \
            list(r.choice(everything, r.integers(0, 2)))          # a confusing word or two
        r.shuffle(words)
        texts.append(" ".join(words))
        labels.append(c)
    return texts, np.array(labels)


def main(quick=False):
    rng(0)
    texts, labels = factory_reports(240 if quick else 480)
    documents = [t.lower().split() for t in texts]                # tokenizedDocument
    n = len(documents)
    cut = int(0.8 * n)
    documentsTrain, TTrain = documents[:cut], labels[:cut]
    documentsTest, TTest = documents[cut:], labels[cut:]
    classNames = np.unique(labels)

    enc = wordEncoding(documentsTrain)
    XTrain = doc2sequence(enc, documentsTrain, PaddingDirection="none")
    XTest = doc2sequence(enc, documentsTest, PaddingDirection="none")

    layers = [sequenceInputLayer(1),
              wordEmbeddingLayer(50, enc.NumWords),
              lstmLayer(40 if quick else 80, OutputMode="last"),
              fullyConnectedLayer(len(classNames)),
              softmaxLayer()]
    options = trainingOptions("adam", MaxEpochs=10 if quick else 30, MiniBatchSize=16,
                              GradientThreshold=2, Shuffle="every-epoch",
                              InputDataFormats="CTB", Metrics="accuracy", Verbose=False)
    start = time.perf_counter()
    net = trainnet(XTrain, TTrain, layers, "crossentropy", options)
    elapsed = time.perf_counter() - start
    scores = minibatchpredict(net, XTest, InputDataFormats="CTB")
    YTest = scores2label(scores, classNames)
    acc = float(np.mean(YTest == TTest))
    print(f"Vocabulary: {enc.NumWords} words; training time {elapsed:.1f} s")
    print(f"Test accuracy: {100 * acc:.2f} %")
    new = [t.split() for t in ["coolant is leaking from the pipe",
                               "the screen froze after the update"]]
    print("New reports:", scores2label(minibatchpredict(
        net, doc2sequence(enc, new, PaddingDirection="none"), InputDataFormats="CTB"),
        classNames).tolist())
    return acc


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smaller, shorter run")
    main(parser.parse_args().quick)
