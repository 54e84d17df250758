"""The Faust codec for qbsync envelopes: pydantic models on the wire as UTF-8 JSON."""

from __future__ import annotations

from typing import Any

from faust.serializers import codecs

from schemas.catalog import decode, encode
from schemas.envelope import Envelope

CODEC_NAME = "qbsync-envelope"


class EnvelopeCodec(codecs.Codec):
    """Encodes any catalog event; decoding raises `EventRejected` naming the bad field.

    Input topics are consumed as raw bytes instead, so that a rejected message can be
    dead-lettered with exactly the bytes that arrived.
    """

    def _dumps(self, obj: Any) -> bytes:
        if isinstance(obj, Envelope):
            return encode(obj)
        raise TypeError(f"{CODEC_NAME} encodes qbsync envelopes, not {type(obj).__name__}")

    def _loads(self, s: bytes) -> Any:
        return decode(s)


def register() -> None:
    codecs.register(CODEC_NAME, EnvelopeCodec())
