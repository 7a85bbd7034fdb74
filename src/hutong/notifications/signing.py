"""Webhook signatures: RFC 9421 HTTP Message Signatures with the node's Ed25519 key.

Every webhook request carries ``Content-Digest`` (RFC 9530, SHA-256 of the body) and a
signature labelled ``hutong`` with the tag ``hutong-webhook`` over the method, the
target URI, the content type, the event and delivery headers and the digest. The key id
is ``hutong-node:<node code>``; the public key is the node's (``GET /api/v1/node``,
raw Ed25519, base64). ``verify_webhook`` is what a receiver runs (docs/objections.md).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from http_message_signatures import (
    HTTPMessageSignaturesException,
    HTTPMessageSigner,
    HTTPMessageVerifier,
    MappingKeyResolver,
    algorithms,
)

LABEL = "hutong"
TAG = "hutong-webhook"
EVENT_HEADER = "X-Hutong-Event"
DELIVERY_HEADER = "X-Hutong-Delivery"
COVERED = ("@method", "@target-uri", "content-type", "x-hutong-event", "x-hutong-delivery")


def key_id(node: str) -> str:
    """The key id a node signs with."""
    return f"hutong-node:{node}"


def sign_request(request: httpx.Request, *, key: Ed25519PrivateKey, node: str) -> None:
    """Add Content-Digest, Signature-Input and Signature to a request (in place)."""
    kid = key_id(node)
    signer = HTTPMessageSigner(
        signature_algorithm=algorithms.ED25519,
        key_resolver=MappingKeyResolver(public_keys={}, private_keys={kid: key}),
    )
    signer.sign(
        request,
        key_id=kid,
        label=LABEL,
        tag=TAG,
        covered_component_ids=COVERED,
        body=request.content,
    )


@dataclass
class _Message:
    method: str
    url: str
    headers: Mapping[str, str]


class BadSignature(Exception):
    """The webhook's signature, digest or key does not check out."""


def verify_webhook(
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    public_key: Ed25519PublicKey,
    node: str,
    max_age: dt.timedelta = dt.timedelta(minutes=10),
) -> None:
    """Check a received webhook: signature by ``node``'s key, body digest, age. Raises BadSignature.

    ``url`` is the full URL the request was sent to (as the sender saw it).
    """
    kid = key_id(node)
    verifier = HTTPMessageVerifier(
        signature_algorithm=algorithms.ED25519,
        key_resolver=MappingKeyResolver(public_keys={kid: public_key}, private_keys={}),
    )
    message = _Message(method=method.upper(), url=url, headers=dict(headers))
    try:
        results = verifier.verify(
            message,
            max_age=max_age,
            expect_tag=TAG,
            expect_label=LABEL,
            require_components=(*COVERED, "content-digest"),
            body=body,
        )
    except (HTTPMessageSignaturesException, KeyError, ValueError) as exc:
        raise BadSignature(str(exc)) from exc
    if not results or results[0].parameters.get("keyid") != kid:
        raise BadSignature("not signed by this node's key")
