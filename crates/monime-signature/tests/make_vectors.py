#!/usr/bin/env python3
"""Writes vectors.json: signature test cases computed independently of the Rust code.

HS256 uses Python's hmac/hashlib/base64; ES256 uses the `cryptography` package with
RFC 6979 deterministic ECDSA, so the Rust signer must reproduce the exact same DER bytes.
Run: python3 make_vectors.py > vectors.json
"""
import base64
import hashlib
import hmac
import json

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

SECRET = "test_secret_for_vector_0123456789abcdef"
T = "1771803194"
NOW = 1771803194
BODY = ('{"apiVersion":"caph.2025-08-23","event":{"id":"wkd-example","name":"checkout_session.completed",'
        '"timestamp":"1771803194"},"object":{"id":"scs-example","type":"checkout_session"},'
        '"data":{"id":"scs-example","status":"completed"}}')


def mac(secret, t, body, sep=b"_"):
    return hmac.new(secret.encode(), t.encode() + sep + body, hashlib.sha256).digest()


def b64(raw):
    return base64.b64encode(raw).decode()


def b64url(raw, pad=True):
    text = base64.urlsafe_b64encode(raw).decode()
    return text if pad else text.rstrip("=")


def key(label):
    scalar = int.from_bytes(hashlib.sha256(label.encode()).digest(), "big")
    return ec.derive_private_key(scalar, ec.SECP256R1())


def pem_private(k):
    return k.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                           serialization.NoEncryption()).decode()


def pem_public(k):
    return k.public_key().public_bytes(serialization.Encoding.PEM,
                                       serialization.PublicFormat.SubjectPublicKeyInfo).decode()


def es_sign(k, t, body):
    der = k.sign(t.encode() + b"_" + body, ec.ECDSA(hashes.SHA256(), deterministic_signing=True))
    r, s = decode_dss_signature(der)
    return der, r.to_bytes(32, "big") + s.to_bytes(32, "big")


cases = []


def hs(name, expect, header, secrets=(SECRET,), body=BODY, now=NOW, t=T, signable=False,
       signing_secret=None, note=None, **extra):
    case = {"name": name, "scheme": "HS256", "secrets": list(secrets), "t": t, "now": now,
            "tolerance": 300, "expect": expect, "reproduced_by_sign": signable}
    if signing_secret is not None:
        case["signing_secret"] = signing_secret
    if isinstance(body, bytes):
        case["body_base64"] = b64(body)
    else:
        case["body"] = body
    if header is not None:
        case["header"] = header
    if note:
        case["note"] = note
    case.update(extra)
    cases.append(case)


body = BODY.encode()
good = b64(mac(SECRET, T, body))
assert good == "o+nIL3gPpRzqpfhdMgNU+sxBdncVzFkqwrPZcnZ6TcM="
hs("facts_check_vector", "valid", f"t={T},v1={good}", signable=True,
   note="the check vector of monime-api-facts.md section 5")
period = b64(mac(SECRET, T, body, b"."))
assert period == "mzpZLUL5DjSVlLjosG4R2IVaeOnzUbFAQYk1F+VYa7g="
hs("period_separator", "signature_mismatch", f"t={T},v1={period}",
   note="signed over t.body instead of t_body")
hs("hex_v1", "signature_mismatch", f"t={T},v1={mac(SECRET, T, body).hex()}",
   note="v1 is hex instead of base64")
hs("base64url_v1", "signature_mismatch", f"t={T},v1={b64url(mac(SECRET, T, body))}",
   note="v1 is URL-safe base64; HS256 uses standard base64")
changed = bytearray(body)
changed[10] ^= 0x01
hs("changed_body_byte", "signature_mismatch", f"t={T},v1={good}", body=bytes(changed).decode())
hs("changed_t", "signature_mismatch", f"t=1771803195,v1={good}", t="1771803195", now=NOW + 1)
hs("wrong_secret", "signature_mismatch", f"t={T},v1={good}",
   secrets=("another_secret_0123456789abcdef012345",))
hs("configured_secret_has_trailing_newline", "signature_mismatch", f"t={T},v1={good}",
   secrets=(SECRET + "\n",), note="the verifier must not trim; the error hints at the whitespace")
spaced = SECRET + " "
hs("secret_with_trailing_space_is_used_verbatim", "valid",
   f"t={T},v1={b64(mac(spaced, T, body))}", secrets=(spaced,), signable=True)
bogus = b64(b"\x00" * 32)
hs("two_v1_one_valid", "valid", f"t={T},v1={bogus},v1={good}")
hs("unknown_extra_parts", "valid", f"t={T},v0=legacy,v1={good},scheme=hmac")
hs("whitespace_around_parts", "valid", f"  t = {T} ,\tv1 = {good}  ")
hs("value_split_at_first_equals", "valid", f"t={T},v1={good},x=a=b=c")
hs("missing_t", "missing_timestamp", f"v1={good}")
hs("missing_v1", "missing_signature", f"t={T}")
hs("empty_header", "missing_header", "")
hs("non_numeric_t", "malformed_header", f"t=17718O3194,v1={good}")
hs("part_without_equals", "malformed_header", f"t={T},v1={good},garbage")
hs("v1_key_glued_to_value", "missing_signature", f"t={T},v1{good}",
   note="`v1o+nI...=` splits at its padding `=` into an unknown key: no v1 is present")
hs("stale_t", "timestamp_out_of_tolerance", f"t={T},v1={good}", now=NOW + 301)
hs("future_t", "timestamp_out_of_tolerance", f"t={T},v1={good}", now=NOW - 301)
hs("at_the_tolerance_edge", "valid", f"t={T},v1={good}", now=NOW + 300)
hs("one_mib_header", "malformed_header", None,
   header_fill={"prefix": f"t={T},v1=", "fill": "A", "length": 1024 * 1024})
raw = b'{"data":"\xff\xfe\x00binary"}'
hs("non_utf8_body", "valid", f"t={T},v1={b64(mac(SECRET, T, raw))}", body=raw, signable=True)
hs("empty_body", "valid", f"t={T},v1={b64(mac(SECRET, T, b''))}", body="", signable=True)
OLD = "previous_secret_0123456789abcdef0123"
hs("rotation_previous_secret", "valid", f"t={T},v1={b64(mac(OLD, T, body))}",
   secrets=(SECRET, OLD), signing_secret=OLD, signable=True)
hs("rotation_both_signatures", "valid",
   f"t={T},v1={b64(mac(OLD, T, body))},v1={good}", secrets=(SECRET,))

k1, k2 = key("monime-signature vector key 1"), key("monime-signature vector key 2")
der, rs = es_sign(k1, T, body)


def es(name, expect, header, public=pem_public(k1), body=BODY, signable=False, note=None):
    case = {"name": name, "scheme": "ES256", "public_key_pem": public,
            "private_key_pem": pem_private(k1), "t": T, "now": NOW, "tolerance": 300,
            "expect": expect, "reproduced_by_sign": signable, "body": body}
    if header is not None:
        case["header"] = header
    if note:
        case["note"] = note
    cases.append(case)


es("es256_der_standard_base64", "valid", f"t={T},v1={b64(der)}", signable=True,
   note="RFC 6979 deterministic; the Rust signer must produce these exact bytes")
es("es256_raw_rs_standard_base64", "valid", f"t={T},v1={b64(rs)}")
es("es256_raw_rs_url_safe_base64", "valid", f"t={T},v1={b64url(rs, pad=False)}")
es("es256_der_url_safe_base64", "valid", f"t={T},v1={b64url(der)}")
es("es256_wrong_key", "signature_mismatch", f"t={T},v1={b64(der)}", public=pem_public(k2))
es("es256_changed_body", "signature_mismatch", f"t={T},v1={b64(der)}",
   body=BODY.replace("completed", "cancelled"))
es("es256_malformed_pem", "invalid_key", f"t={T},v1={b64(der)}",
   public="-----BEGIN PUBLIC KEY-----\nbm90IGEga2V5\n-----END PUBLIC KEY-----\n")
es("es256_period_separator", "signature_mismatch",
   f"t={T},v1={b64(k1.sign((T + '.').encode() + body, ec.ECDSA(hashes.SHA256(), deterministic_signing=True)))}")

doc = {
    "description": "Monime webhook signature vectors. HS256: v1 = base64(HMAC-SHA256(secret utf-8, t + '_' + body)). "
                   "ES256 (inferred, not published by Monime): ECDSA P-256/SHA-256 over the same bytes, DER or r||s, "
                   "standard or URL-safe base64. A case verifies `header` (or a header of `header_fill.length` bytes) "
                   "against `body` (or base64-decoded `body_base64`) with `secrets` / `public_key_pem` at unix time `now` "
                   "and `tolerance` seconds; `expect` is `valid` or an error kind. Where `reproduced_by_sign` is true, "
                   "signing `body` at `t` with `signing_secret` (default: first of `secrets`) or `private_key_pem` "
                   "must give `header` exactly.",
    "generator": "make_vectors.py",
    "cases": cases,
}
print(json.dumps(doc, indent=2, ensure_ascii=False))
