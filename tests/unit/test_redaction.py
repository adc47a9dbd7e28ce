"""Keys in URLs, configs, logs and tracebacks redacted or scrubbed: no model, no Prefect."""

from __future__ import annotations

import io
import json
import logging
import os

import pytest

from benchmint.config import BuildConfig, load_config
from benchmint.errors import ConfigError
from benchmint.modelspec import parse_model_ref, stash_model_ref
from benchmint.secrets import (
    REDACTED,
    SAFE_PARAMS,
    has_secret,
    redact,
    redact_url,
    remember,
    reveal,
    scrub,
    stash,
    url_env_name,
)
from tests.fixtures import SECRET_CANARY as C
from tests.fixtures import canary_config

FORMS = [
    (f"https://user:{C}@api.example.com/v1", "https://api.example.com/v1"),
    (f"https://{C}@api.example.com/v1", "https://api.example.com/v1"),  # a token as the user
    (f"https://user:p@ss/{C}@api.example.com/v1", "https://api.example.com/v1"),  # '@' and '/' inside a password
    (f"https://user:a?b{C}@api.example.com/v1", "https://api.example.com/v1"),  # '?' inside a password
    (f"https://user:a#b{C}@api.example.com/v1", "https://api.example.com/v1"),  # '#' inside a password
    (f"https://api.example.com/v1?api_key={C}", "https://api.example.com/v1?api_key=REDACTED"),
    (f"https://fn.example.net/api/x?code={C}", "https://fn.example.net/api/x?code=REDACTED"),
    (f"https://blob.example.net/c/f?sv=2022&sig={C}", "https://blob.example.net/c/f?sv=REDACTED&sig=REDACTED"),
    (f"https://api.example.com/v1?password={C}", "https://api.example.com/v1?password=REDACTED"),
    (f"https://api.example.com/v1?secret={C}", "https://api.example.com/v1?secret=REDACTED"),
    (f"https://api.example.com/v1?auth={C}", "https://api.example.com/v1?auth=REDACTED"),
    (f"https://api.example.com/v1?subscription-key={C}", "https://api.example.com/v1?subscription-key=REDACTED"),
    (f"https://api.example.com/v1?x-api-key={C}", "https://api.example.com/v1?x-api-key=REDACTED"),
    (f"https://api.example.com/v1?format=json;token={C}", "https://api.example.com/v1?format=json;token=REDACTED"),
    (f"https://api.example.com/v1;token={C}/models", "https://api.example.com/v1;token=REDACTED/models"),
    (f"HTTPS://user:{C}@API.example.com/v1", "https://API.example.com/v1"),
    (f"Http://api.example.com/v1?TOKEN={C}", "http://api.example.com/v1?TOKEN=REDACTED"),
    (f"https://api.example.com/v1?api%5Fkey={C}", "https://api.example.com/v1?api%5Fkey=REDACTED"),
    (f"https://api.example.com/v1?%74oken={C}", "https://api.example.com/v1?%74oken=REDACTED"),
    (f"https://api.example.com/v1?api+key={C}", "https://api.example.com/v1?api+key=REDACTED"),
    (f"https://api.example.com/v1?Model=gpt-4o&API-KEY={C}", "https://api.example.com/v1?Model=gpt-4o&API-KEY=REDACTED"),
    (f"https://api.example.com/v1#{C}", "https://api.example.com/v1#REDACTED"),
    (f"https://api.example.com/v1?q=x#access_token={C}", "https://api.example.com/v1?q=x#REDACTED"),
    (f"https://api.example.com/v1?{C}", "https://api.example.com/v1?REDACTED"),  # a bare value
    (f"//user:{C}@api.example.com/v1", "//api.example.com/v1"),  # scheme-relative
    (f"https://feeds.example.org/rss?token={C}&lang=en", "https://feeds.example.org/rss?token=REDACTED&lang=en"),
]


@pytest.mark.parametrize("raw,redacted", FORMS)
def test_every_form_of_a_key_in_a_url_is_redacted(raw, redacted):
    assert redact_url(raw) == redacted
    assert C not in redact_url(raw) and has_secret(raw)
    assert redact_url(redacted) == redacted  # redaction is idempotent


@pytest.mark.parametrize("url", [
    "http://export.arxiv.org/api/query?search_query=cat:cs.CL&max_results=50&sortBy=submittedDate",
    "https://example.openai.azure.com/openai/deployments/gpt/chat?api-version=2024-06-01",
    "http://127.0.0.1:8080/v1", "http://[::1]:8080/v1", "https://news.example.org/feed.xml?page=2&LANG=en",
    "local:qwen2.5-coder-1.5b", "not a url",
])
def test_harmless_urls_are_kept(url):
    assert redact_url(url) == url and not has_secret(url)


def test_the_allow_list_is_matched_after_percent_decoding_and_nothing_else_passes():
    assert redact_url("https://h/x?%4D%4FDEL=m&mode=" + C) == "https://h/x?%4D%4FDEL=m&mode=REDACTED"
    assert {"model", "api-version", "since", "q"} <= SAFE_PARAMS
    assert not {"key", "token", "code", "sig", "auth", "password", "secret"} & SAFE_PARAMS


def test_stash_keeps_the_raw_url_in_the_environment_and_reveal_gives_it_back():
    raw = f"https://user:{C}stash@api.example.com/v1?api_key={C}q&model=m"
    red = stash(raw)
    assert C not in red and os.environ[url_env_name(red)] == raw and reveal(red) == raw
    assert stash(red) == red and reveal(red) == raw  # stashing the redacted form keeps the raw one
    assert stash("http://127.0.0.1:1/v1") == "http://127.0.0.1:1/v1"  # nothing secret: nothing stashed
    assert reveal("https://other.example.com/v1?api_key=REDACTED") == "https://other.example.com/v1?api_key=REDACTED"
    # the stashed secrets are remembered: an error body echoing them is scrubbed
    assert scrub(f"401: bad key {C}q for {C}stash") == f"401: bad key {REDACTED} for {REDACTED}"


def test_scrub_removes_remembered_values_in_every_encoding_and_urls_in_text():
    remember(f"sk-{C}/+=x", "abc")  # 'abc': too short to scrub without mangling text
    text = (f"Authorization: Bearer sk-{C}/+=x; echoed sk-{C}%2F%2B%3Dx and sk-{C}%2F%2B%3Dx; "
            f"see https://u:pw{C}@h.example/v1?sig=s{C} abc")
    out = scrub(text)
    assert C not in out and out.endswith("see https://h.example/v1?sig=REDACTED abc")
    assert scrub("no secret here") == "no secret here"


@pytest.mark.parametrize("ref", [
    f"https://user:{C}@api.example.com/v1",  # no '#model'
    f"https://api.example.com/v1?api_key={C}#",  # an empty model name
    f"htps://user:{C}@api.example.com/v1#m",  # a typo in the scheme
    f"user:{C}@api.example.com/v1#m",  # no scheme
    f"api.example.com/v1?key={C}#m",
    f"ftp://api.example.com/v1;token={C}#m",
])
def test_a_malformed_model_reference_never_prints_the_key(ref):
    with pytest.raises(ConfigError) as err:
        parse_model_ref(ref)
    assert C not in str(err.value) and ("REDACTED" in str(err.value) or "api.example.com" in str(err.value))


def test_an_invalid_model_entry_never_prints_the_key():
    with pytest.raises(ConfigError) as err:
        parse_model_ref({"model": "m", "base_url": f"https://u:{C}@h/v1", "timeout_s": -1})
    assert C not in str(err.value) and "timeout_s" in str(err.value)


def test_upper_case_scheme_is_a_url_reference():
    spec = parse_model_ref(f"HTTPS://api.example.com/v1?api_key={C}#my-model")
    assert spec.model == "my-model" and C not in spec.label
    assert stash_model_ref(f"HTTPS://api.example.com/v1?api_key={C}#my-model") == \
        "https://api.example.com/v1?api_key=REDACTED#my-model"




def test_a_config_handed_to_a_flow_holds_no_secret_and_every_url_is_revealed(tmp_path):
    cfg = BuildConfig.model_validate(canary_config(tmp_path))
    safe = cfg.stashed()
    dumped = json.dumps(safe.model_dump(mode="json"))
    assert C not in dumped and C not in json.dumps(cfg.public_dict())
    assert [reveal(s.base_url) for s in safe.model_specs() if s.base_url] == \
        [s.base_url for s in cfg.model_specs() if s.base_url]
    assert reveal(safe.feeds[0]) == cfg.feeds[0]
    assert all(C not in s.label for s in safe.model_specs() + cfg.model_specs())
    assert safe.models.generator.api_key_env == "CANARY_GEN_KEY"  # keys by variable name


def test_two_urls_that_differ_only_in_their_keys_are_refused(tmp_path):
    data = canary_config(tmp_path)
    data["models"]["targets"] = [f"https://t.example.com/v1?api_key={C}1#t", f"https://t.example.com/v1?api_key={C}2#t"]
    with pytest.raises(ConfigError, match="differ only in their secrets") as err:
        BuildConfig.model_validate(data).stashed()
    assert C not in str(err.value)


def test_a_benchmark_named_after_a_feed_is_not_named_after_its_key(tmp_path):
    cfg = load_config(None, {"feeds": [f"https://user:{C}@feeds.example.org/rss?token={C}"]})
    assert cfg.name == "feeds.example.org" and C not in cfg.name


def test_redact_removes_secret_keys_and_urls_of_any_scheme_case():
    out = redact({"token": C, "api_key_env": "K", "x": [f"HTTPS://u:{C}@h/v1"], "max_tokens": 5})
    assert out == {"token": REDACTED, "api_key_env": "K", "x": ["https://h/v1"], "max_tokens": 5}


def test_log_records_are_scrubbed_before_any_handler_sees_them(monkeypatch):
    from benchmint.logscrub import install_log_scrubber

    monkeypatch.setenv("CANARY_LOG_KEY", f"sk-{C}log")
    install_log_scrubber(["CANARY_LOG_KEY"])
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    parent = logging.getLogger("benchmint-test-parent")
    parent.addHandler(handler)  # a record made by a child logger reaches it by propagation
    try:
        child = logging.getLogger("benchmint-test-parent.child")
        child.warning("calling %s with %s", f"https://api.example.com/v1?api_key={C}x", f"sk-{C}log")
        try:
            raise RuntimeError(f"endpoint said: bad key sk-{C}log")
        except RuntimeError:
            child.exception("failed")
    finally:
        parent.removeHandler(handler)
    text = stream.getvalue()
    assert "calling https://api.example.com/v1?api_key=REDACTED with REDACTED" in text
    assert "RuntimeError: endpoint said: bad key REDACTED" in text and C not in text


def test_an_unexpected_traceback_is_printed_scrubbed(capsys, monkeypatch):
    from benchmint.logscrub import scrubbing_excepthook

    monkeypatch.setenv("SOME_SERVICE_TOKEN", f"tok-{C}-env")
    try:
        raise ValueError(f"bad reply from https://h.example/v1?key={C}q with tok-{C}-env")
    except ValueError as exc:
        scrubbing_excepthook(type(exc), exc, exc.__traceback__)
    err = capsys.readouterr().err
    assert "ValueError: bad reply from https://h.example/v1?key=REDACTED with REDACTED" in err and C not in err
