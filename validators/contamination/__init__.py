"""Contamination: a candidate that is a copy, a light edit or a paraphrase of an item in a
known corpus is not published, and the verdict names the item, the stage and the evidence.

Stages, cheapest first; each records its evidence, and a candidate flagged by one stage
skips the later ones:

1. normalize: NFKC, case, punctuation and whitespace folded, digits kept, a leading label
   ("Question:", "Q1.", "1)") dropped. Three views of a candidate are checked: the question
   alone, question + answer, and question + choices (choices sorted, so reordering is moot).
2. exact: a hash of each view against the same views of every reference item. The question
   alone counts only when it is specific (enough tokens, and unique in its corpus), so a
   generic "Which of the following is true?" needs its choices to match too.
3. ngram: hashed word n-grams (13, as GPT-3 and lm-eval's janitor; 8 for short views) in a
   sorted numpy array per corpus; overlap ratio, the best item, and the longest match.
4. fuzzy: rapidfuzz ratios between the candidate's views and the lexical and semantic
   neighbours (never every pair).
5. semantic: MiniLM embeddings of the question alone, searched in a faiss index holding each
   reference item's question, question + short answer, and the closing part of long
   questions (the actual ask after a passage). Cosine at or above `semantic_threshold`
   flags; the middle band down to `review_threshold` goes to the judge.
6. second look (before any pair other than an exact copy flags or joins the middle band): the
   two items' answers, choices and asks (a long question's closing part, digits and names
   masked) compared; a pair with positive evidence of a different question (another key among
   the same options, another answer and choices on another ask, or another problem of the same
   kind) neither flags nor goes to the judge. Distinct items of one subject, and questions on a
   benchmark's passage that ask something else, are published; paraphrases keep their answer.
7. judge (optional): any model client decides whether the two items are the same question
   up to rewording, names, numbers or language (the LLM Decontaminator's test). With no
   judge, the middle band is flagged for review: not published, never silently passed.
8. translation: a candidate in another language (benchmint.language) is translated into English
   by a model (the judge's client, else the generator's) and checked again by every stage; it is
   contaminated when either version is. English candidates cost no call (translate.py).

Indexes are built once per corpus content hash and kept under `<cache>/contamination/`.

Modules: config (the thresholds), text (normalized views), ngrams, index (one corpus), second_look, looks (a call's
second looks), judge (its prompt), translate (non-English candidates), findings (what a check found), detector (the
stages), validator, files (any question file), tally (a build's verdicts per stage), calibration (the detector's
precision and recall as measured on the development set, calibration.json: each release's manifest and card carry
them).
"""
