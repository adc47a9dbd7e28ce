from benchmint.records import Document
from corpora.chunking import chunk_document, count_tokens


def _doc(text: str) -> Document:
    return Document(id="d", title="t", source="s", text=text, format="txt")


def test_chunks_keep_exact_spans_and_respect_size():
    sentences = [f"Sentence number {i} says the valve V-{i} opens at {i * 3} bar of pressure." for i in range(200)]
    doc = _doc(" ".join(sentences))
    chunks = chunk_document(doc, max_tokens=120, overlap=30)
    assert len(chunks) > 10
    for c in chunks:
        assert doc.text[c.start:c.end] == c.text
        assert c.n_tokens <= 120
        assert c.n_tokens == count_tokens(c.text)
        assert c.text.endswith(".")  # sentence boundaries
    # Overlap: each chunk starts before the previous one ends.
    for a, b in zip(chunks, chunks[1:]):
        assert b.start < a.end
        assert b.start > a.start
    # Everything is covered.
    assert chunks[0].start == 0 and chunks[-1].end == len(doc.text)


def test_a_sentence_longer_than_a_chunk_is_split():
    doc = _doc("word " * 1000)
    chunks = chunk_document(doc, max_tokens=100, overlap=0)
    assert len(chunks) >= 10
    assert all(c.n_tokens <= 100 for c in chunks)
    assert all(doc.text[c.start:c.end] == c.text for c in chunks)


def test_small_document_is_one_chunk():
    doc = _doc("One short line about the Orrin-7 pump.")
    chunks = chunk_document(doc)
    assert len(chunks) == 1 and chunks[0].text == doc.text
