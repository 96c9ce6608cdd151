"""WeChat Official Account signatures, "safe mode" encryption, and safe XML parsing.

    signature(token, timestamp, nonce)             # URL check and plain-mode POSTs
    signature(token, timestamp, nonce, encrypt)    # msg_signature in safe mode
    box = MessageCrypto(token, encoding_aes_key, app_id)
    xml = box.decrypt(encrypt)                     # after checking msg_signature
    envelope = box.envelope(reply_xml, timestamp, nonce)

The scheme: key = base64(EncodingAESKey + "="), AES-256-CBC, IV = key[:16], PKCS#7 padding
to 32-byte blocks, plaintext = 16 random bytes + 4-byte big-endian length + xml + app id.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import struct
from xml.etree.ElementTree import Element, ParseError

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

BLOCK = 32
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class CryptoError(ValueError):
    """Not a message this account encrypted (bad base64, padding, length or app id)."""


class BadXml(ValueError):
    """Malformed XML, or XML with a DTD / entities (never expanded, never fetched)."""


def signature(*parts: str) -> str:
    """SHA-1 of the parts sorted and joined: WeChat's `signature` and `msg_signature`."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def signed(given: str, *parts: str) -> bool:
    """Constant-time check of a signature from the query string."""
    return hmac.compare_digest(given.lower().encode("ascii", "replace"),
                               signature(*parts).encode("ascii"))


def parse_fields(body: bytes) -> dict[str, str]:
    """`<xml><Name>value</Name>…</xml>` as a dict, parsed only by defusedxml (no DTD at all)."""
    try:
        root: Element = fromstring(body, forbid_dtd=True, forbid_entities=True,
                                   forbid_external=True)
    except (ParseError, DefusedXmlException, ValueError) as error:
        raise BadXml(str(error)) from error
    if root.tag != "xml":
        raise BadXml(f"root element is <{root.tag}>, not <xml>")
    return {child.tag: (child.text or "").strip() for child in root if len(child) == 0}


def cdata(value: str) -> str:
    """A CDATA section that stays one even with `]]>` inside; characters XML forbids dropped."""
    value = _NOT_XML.sub("", value).replace("]]>", "]]]]><![CDATA[>")
    return f"<![CDATA[{value}]]>"


class MessageCrypto:
    def __init__(self, token: str, encoding_aes_key: str, app_id: str) -> None:
        try:
            key = base64.b64decode(encoding_aes_key + "=", validate=True)
        except binascii.Error as error:
            raise ValueError("EncodingAESKey is not base64") from error
        if len(encoding_aes_key) != 43 or len(key) != 32:
            raise ValueError("EncodingAESKey must be 43 characters (32 bytes)")
        self.token, self.app_id = token, app_id
        self._key = key

    def _cipher(self) -> Cipher[modes.CBC]:
        return Cipher(algorithms.AES(self._key), modes.CBC(self._key[:16]))

    def encrypt(self, xml: bytes, random16: bytes | None = None) -> str:
        prefix = random16 if random16 is not None else os.urandom(16)
        assert len(prefix) == 16
        plain = prefix + struct.pack(">I", len(xml)) + xml + self.app_id.encode("utf-8")
        pad = BLOCK - len(plain) % BLOCK
        plain += bytes([pad]) * pad
        encryptor = self._cipher().encryptor()
        return base64.b64encode(encryptor.update(plain) + encryptor.finalize()).decode("ascii")

    def decrypt(self, encrypted: str) -> bytes:
        """The XML inside; check `msg_signature` first, so only WeChat's ciphertexts get here."""
        try:
            data = base64.b64decode(encrypted, validate=True)
        except binascii.Error as error:
            raise CryptoError("Encrypt is not base64") from error
        if not data or len(data) % 16:
            raise CryptoError("ciphertext is not whole AES blocks")
        decryptor = self._cipher().decryptor()
        plain = decryptor.update(data) + decryptor.finalize()
        pad = plain[-1]
        if not 1 <= pad <= BLOCK or plain[-pad:] != bytes([pad]) * pad:
            raise CryptoError("bad padding")
        plain = plain[:-pad]
        if len(plain) < 20:
            raise CryptoError("too short")
        (length,) = struct.unpack(">I", plain[16:20])
        xml, app_id = plain[20:20 + length], plain[20 + length:]
        if len(xml) != length:
            raise CryptoError("length field beyond the message")
        if not hmac.compare_digest(app_id, self.app_id.encode("utf-8")):
            raise CryptoError("message for another app id")
        return xml

    def sign(self, timestamp: str, nonce: str, encrypt: str) -> str:
        return signature(self.token, timestamp, nonce, encrypt)

    def envelope(self, xml: bytes, timestamp: str, nonce: str) -> bytes:
        """A passive reply in safe mode: the encrypted XML, signed."""
        encrypt = self.encrypt(xml)
        return (
            f"<xml><Encrypt>{cdata(encrypt)}</Encrypt>"
            f"<MsgSignature>{cdata(self.sign(timestamp, nonce, encrypt))}</MsgSignature>"
            f"<TimeStamp>{timestamp}</TimeStamp><Nonce>{cdata(nonce)}</Nonce></xml>"
        ).encode()
