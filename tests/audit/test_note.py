"""Signed checkpoints: C2SP signed-note and tlog-checkpoint, as a verifier sees them."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given
from hypothesis import strategies as st

from hutong.audit.merkle import leaf_hash
from hutong.audit.merkle_reference import mth
from hutong.audit.note import (
    Checkpoint,
    NoteError,
    add_signature,
    format_checkpoint,
    key_id,
    open_note,
    parse_checkpoint,
    sign_note,
    verifier_key,
)

ORIGIN = "sh.hutong.example/audit"
ROOT = mth([leaf_hash(b"entry %d" % i) for i in range(5)])
WHEN = dt.datetime(2026, 11, 25, 17, 0, 5, tzinfo=dt.UTC)


def new_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def signed_checkpoint(key: Ed25519PrivateKey, name: str = ORIGIN) -> str:
    return sign_note(format_checkpoint(ORIGIN, 5, ROOT, time=WHEN), name, key)


def test_checkpoint_round_trip():
    key = new_key()
    note = signed_checkpoint(key)
    body, signers = open_note(note, [verifier_key(ORIGIN, key.public_key())])
    assert signers == [ORIGIN]
    checkpoint = parse_checkpoint(body)
    assert checkpoint == Checkpoint(ORIGIN, 5, ROOT, ("time 2026-11-25T17:00:05Z",))
    assert checkpoint.time == WHEN
    assert body == f"{ORIGIN}\n5\n{base64.b64encode(ROOT).decode()}\ntime 2026-11-25T17:00:05Z\n"
    assert note.startswith(body + "\n\u2014 " + ORIGIN + " ")
    assert note.endswith("\n")


def test_c2sp_signature_line_and_verifier_key_layout():
    key = new_key()
    public = key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    kid = hashlib.sha256(ORIGIN.encode() + b"\n\x01" + public).digest()[:4]
    assert key_id(ORIGIN, key.public_key()) == kid
    vkey = verifier_key(ORIGIN, key.public_key())
    encoded = base64.b64encode(b"\x01" + public).decode()
    assert vkey == f"{ORIGIN}+{kid.hex()}+{encoded}"

    note = signed_checkpoint(key)
    line = note.rstrip("\n").split("\n")[-1]
    dash, name, encoded = line.split(" ")
    raw = base64.b64decode(encoded)
    assert (dash, name, raw[:4], len(raw)) == ("\u2014", ORIGIN, kid, 68)
    body = note[: note.rindex("\n\n") + 1]
    key.public_key().verify(raw[4:], body.encode())  # raises if the signature is wrong


def test_go_sumdb_note_example_signs_and_verifies_byte_for_byte():
    # The example of golang.org/x/mod/sumdb/note's documentation: another implementation.
    skey = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
    vkey = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    text = (
        "If you think cryptography is the answer to your problem,\n"
        "then you don't know what your problem is.\n"
    )
    note = (
        text
        + "\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXg"
        "KvqfqdngotpRZb6KE6RyyBwJnAM=\n"
    )
    assert open_note(note, [vkey]) == (text, ["PeterNeumann"])
    seed = base64.b64decode(skey.split("+", 4)[4])[1:]  # type byte, then the seed
    key = Ed25519PrivateKey.from_private_bytes(seed)
    assert verifier_key("PeterNeumann", key.public_key()) == vkey
    assert sign_note(text, "PeterNeumann", key) == note


def test_time_is_utc_whole_seconds():
    body = format_checkpoint(
        ORIGIN, 0, mth([]), time=WHEN.astimezone(dt.timezone(dt.timedelta(hours=8)))
    )
    assert "time 2026-11-25T17:00:05Z\n" in body
    assert parse_checkpoint(format_checkpoint(ORIGIN, 0, mth([]))).time is None
    with pytest.raises(ValueError, match="timezone"):
        format_checkpoint(ORIGIN, 0, mth([]), time=dt.datetime(2026, 11, 25))


def test_extension_lines_are_kept():
    body = format_checkpoint(ORIGIN, 7, ROOT, ["node sh", "x y z"], time=WHEN)
    checkpoint = parse_checkpoint(body)
    assert checkpoint.extensions == ("time 2026-11-25T17:00:05Z", "node sh", "x y z")
    with pytest.raises(ValueError, match="extension"):
        format_checkpoint(ORIGIN, 7, ROOT, [""])
    with pytest.raises(ValueError, match="extension"):
        format_checkpoint(ORIGIN, 7, ROOT, ["two\nlines"])
    with pytest.raises(NoteError, match="more than one time"):
        format_checkpoint(ORIGIN, 7, ROOT, ["time 2026-11-25T17:00:05Z"], time=WHEN)


def test_format_refuses_bad_tree_heads():
    for origin in ("", "has space", "a+b"):
        with pytest.raises(ValueError, match="origin"):
            format_checkpoint(origin, 1, ROOT)
    with pytest.raises(ValueError, match="size"):
        format_checkpoint(ORIGIN, -1, ROOT)
    with pytest.raises(ValueError, match="32 bytes"):
        format_checkpoint(ORIGIN, 1, ROOT[:31])


@given(
    size=st.integers(0, 2**64),
    root=st.binary(min_size=32, max_size=32),
    origin=st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), min_size=1).filter(
        lambda s: "+" not in s
    ),
)
def test_any_tree_head_round_trips(size, root, origin):
    key = new_key()
    note = sign_note(format_checkpoint(origin, size, root), origin, key)
    body, signers = open_note(note, [verifier_key(origin, key.public_key())])
    assert signers == [origin]
    assert parse_checkpoint(body) == Checkpoint(origin, size, root)


def test_multiple_signatures():
    log, witness, stranger = new_key(), new_key(), new_key()
    note = signed_checkpoint(log)
    note = add_signature(note, "witness.example/w1", witness)
    note = add_signature(note, "stranger.example", stranger)
    vkeys = [
        verifier_key(ORIGIN, log.public_key()),
        verifier_key("witness.example/w1", witness.public_key()),
    ]
    body, signers = open_note(note, vkeys)
    assert signers == [ORIGIN, "witness.example/w1"]
    assert parse_checkpoint(body).size == 5
    # only the witness is trusted: still verified, the unknown signatures are ignored
    assert open_note(note, vkeys[1:])[1] == ["witness.example/w1"]


def test_unknown_keys_only():
    note = signed_checkpoint(new_key())
    with pytest.raises(NoteError, match="no signature by a known key.*" + ORIGIN):
        open_note(note, [verifier_key(ORIGIN, new_key().public_key())])  # same name, other key
    with pytest.raises(NoteError, match="no signature by a known key"):
        open_note(note, [])


def test_name_and_key_id_must_both_match():
    # The key ID hashes the name: a signature line renamed, or checked against a
    # verifier key of another name, belongs to no known key and is ignored.
    key = new_key()
    note = signed_checkpoint(key)
    renamed = note.replace(f"\u2014 {ORIGIN} ", "\u2014 other.example/audit ")
    for vkey in (
        verifier_key(ORIGIN, key.public_key()),
        verifier_key("other.example/audit", key.public_key()),
    ):
        with pytest.raises(NoteError, match="no signature by a known key.*other.example/audit"):
            open_note(renamed, [vkey])


def test_tampered_body_is_a_bad_signature():
    key = new_key()
    vkeys = [verifier_key(ORIGIN, key.public_key())]
    note = signed_checkpoint(key)
    tampered = note.replace("\n5\n", "\n6\n", 1)
    with pytest.raises(NoteError, match=f"bad signature by {ORIGIN}"):
        open_note(tampered, vkeys)


@given(position=st.integers(4, 67), bit=st.integers(0, 7))
def test_tampered_signature_is_rejected(position, bit):
    key = new_key()
    note = signed_checkpoint(key)
    head, line = note.rstrip("\n").rsplit("\n", 1)
    dash, name, encoded = line.split(" ")
    raw = bytearray(base64.b64decode(encoded))
    raw[position] ^= 1 << bit
    bad = f"{head}\n{dash} {name} {base64.b64encode(bytes(raw)).decode()}\n"
    with pytest.raises(NoteError, match=f"bad signature by {ORIGIN}"):
        open_note(bad, [verifier_key(ORIGIN, key.public_key())])


def test_a_bad_known_signature_rejects_the_note_even_beside_a_good_one():
    log, witness = new_key(), new_key()
    other = sign_note(format_checkpoint(ORIGIN, 6, ROOT), "witness.example/w1", witness)
    witness_line = other[other.rindex("\n\n") + 2 :]  # right key ID, signature of another text
    note = signed_checkpoint(log) + witness_line
    vkeys = [
        verifier_key(ORIGIN, log.public_key()),
        verifier_key("witness.example/w1", witness.public_key()),
    ]
    with pytest.raises(NoteError, match="bad signature by witness.example/w1"):
        open_note(note, vkeys)
    assert open_note(note, vkeys[:1])[1] == [ORIGIN]  # an untrusted witness is ignored


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("a\nb\n\u2014 k AAAA\n", "no blank line"),
        ("a\n\n", "no signature lines"),
        ("a\n\n\u2014 k YWJjZGVmZ2g=", "does not end with a newline"),
        ("a\n\n- k YWJjZGVmZ2g=\n", "bad signature line"),
        ("a\n\n\u2014 k  YWJjZGVmZ2g=\n", "bad signature line"),
        ("a\n\n\u2014 k YWJj*GVmZ2g=\n", "not base64"),
        ("a\n\n\u2014 k YWJjZGVmZ2g\n", "not base64"),
        ("a\n\n\u2014 k YWJj\n", "too short"),
        ("a\n\n\u2014 a+b YWJjZGVmZ2g=\n", "bad key name"),
        ("a\tb\n\n\u2014 k YWJjZGVmZ2g=\n", "control character"),
    ],
)
def test_malformed_notes_are_rejected(text, reason):
    key = new_key()
    with pytest.raises(NoteError, match=f"malformed note.*{reason}"):
        open_note(text, [verifier_key("k", key.public_key())])


def test_too_many_signatures():
    key = new_key()
    note = signed_checkpoint(key)
    line = note[note.rindex("\n\n") + 2 :]
    with pytest.raises(NoteError, match="more than 100 signatures"):
        open_note(note + line * 100, [verifier_key(ORIGIN, key.public_key())])


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("origin\n5\n", "fewer than three lines"),
        ("origin\n5\n" + base64.b64encode(ROOT).decode(), "newline"),
        ("\n5\n" + base64.b64encode(ROOT).decode() + "\n", "empty origin"),
        ("origin\n05\n" + base64.b64encode(ROOT).decode() + "\n", "not decimal"),
        ("origin\n-5\n" + base64.b64encode(ROOT).decode() + "\n", "not decimal"),
        ("origin\nfive\n" + base64.b64encode(ROOT).decode() + "\n", "not decimal"),
        ("origin\n\u0665\n" + base64.b64encode(ROOT).decode() + "\n", "not decimal"),
        ("origin\n5\n" + base64.b64encode(ROOT[:31]).decode() + "\n", "31 bytes"),
        ("origin\n5\nnot base64!\n", "not base64"),
        ("origin\n5\n" + base64.b64encode(ROOT).decode() + "\n\nx\n", "empty extension"),
        ("origin\n5\n" + base64.b64encode(ROOT).decode() + "\ntime yesterday\n", "bad time"),
    ],
)
def test_malformed_checkpoints_are_rejected(body, reason):
    with pytest.raises(NoteError, match=f"malformed checkpoint.*{reason}"):
        parse_checkpoint(body)


def test_checkpoint_with_bad_size_line_is_rejected_after_verification():
    key = new_key()
    body = "origin\n 5\n" + base64.b64encode(ROOT).decode() + "\n"
    note = sign_note(body, "origin", key)
    opened, _ = open_note(note, [verifier_key("origin", key.public_key())])
    with pytest.raises(NoteError, match="not decimal"):
        parse_checkpoint(opened)


@pytest.mark.parametrize(
    "vkey",
    [
        "noplus",
        "a+b+c+d",
        "name+c74f20a3",
        "name+zzzzzzzz+AQ==",
        "name+0000000+AQ==",
        "name+00000000+AQ==",
    ],
)
def test_malformed_verifier_keys_are_rejected(vkey):
    with pytest.raises(NoteError, match="malformed verifier key"):
        open_note(signed_checkpoint(new_key()), [vkey])


def test_verifier_key_whose_base64_holds_a_plus_sign():
    # A verifier key of transparency-dev/formats' tests: its base64 contains '+'.
    vkey = "TEST+7997405c+AQcC+FTVKf0jlTdHDY3rbevmnKxxPjigCXlVtGe6RIr6"
    with pytest.raises(NoteError, match="no signature by a known key"):
        open_note(signed_checkpoint(new_key()), [vkey])
    for _ in range(20):  # keys of ours with '+' in their base64 round-trip too
        key = new_key()
        note = sign_note("text\n", "k", key)
        assert open_note(note, [verifier_key("k", key.public_key())]) == ("text\n", ["k"])


def test_verifier_key_with_wrong_key_id_is_rejected():
    key = new_key()
    name, kid, encoded = verifier_key(ORIGIN, key.public_key()).split("+", 2)
    wrong = f"{name}+{(int(kid, 16) ^ 1):08x}+{encoded}"
    with pytest.raises(NoteError, match="key ID does not match"):
        open_note(signed_checkpoint(key), [wrong])


def test_signing_refuses_bad_input():
    key = new_key()
    with pytest.raises(ValueError, match="newline"):
        sign_note("no newline", ORIGIN, key)
    with pytest.raises(ValueError, match="key name"):
        sign_note("text\n", "bad name", key)
    with pytest.raises(ValueError, match="control"):
        sign_note("bell\a\n", ORIGIN, key)
