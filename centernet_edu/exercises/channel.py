"""What crosses between the class grader and a student's process: values as plain data.

The grader sends a case's inputs and receives what the student's function returned,
never pickles (unpickling runs code, and the student writes one end of the pipe). A value
is JSON: numbers, strings, lists, tuples and dicts, with tensors and numpy arrays as their
dtype, shape and bytes, and anything else as the name of its type. ``decode`` checks
every part of what it reads and raises ``Malformed`` for anything it did not expect.

A message is framed as 4 bytes of length (big-endian) and that many bytes of JSON.
"""

from __future__ import annotations

import base64
import json
import math
import re
import struct

import numpy as np
import torch

__all__ = ["Malformed", "Foreign", "encode", "decode", "frame", "Frames", "MAX_MESSAGE"]

MAX_MESSAGE = 64 * 2**20  # bytes: far above any case's outputs
_MAX_DEPTH = 12
_HEADER = struct.Struct(">I")

# The dtypes a value may carry, by name, for tensors and arrays alike.
_TORCH = {
    str(d).removeprefix("torch."): d
    for d in (
        torch.float64,
        torch.float32,
        torch.float16,
        torch.bfloat16,
        torch.int64,
        torch.int32,
        torch.int16,
        torch.int8,
        torch.uint8,
        torch.bool,
        torch.complex64,
        torch.complex128,
    )
}
_NUMPY = {
    n: np.dtype(n)
    for n in (
        "float64",
        "float32",
        "float16",
        "int64",
        "int32",
        "int16",
        "int8",
        "uint64",
        "uint32",
        "uint16",
        "uint8",
        "bool",
        "complex64",
        "complex128",
    )
}


class Malformed(ValueError):
    """A message that is not what the grader sent for, or not what it can read."""


class Foreign:
    """A value that does not cross as data (a module, a function, a model): its type's
    name, which is all a report says of it."""

    def __init__(self, kind: str) -> None:
        self.kind = kind

    def __repr__(self) -> str:
        return f"<{self.kind}>"


def _foreign(kind: str) -> Foreign:
    """A ``Foreign`` whose type is named ``kind``, so that reports say "a Model"."""
    name = kind if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,59}", kind) else "object"
    return type(name, (Foreign,), {})(name)


def _float(x: float):
    return x if math.isfinite(x) else {"float": repr(x)}


def encode(x, given: tuple = (), depth: int = 0):
    """``x`` as JSON-ready data; an element of ``given`` (the inputs) by its position."""
    for i, g in enumerate(given):
        if x is g and isinstance(x, (torch.Tensor, np.ndarray, dict, list)):
            return {"given": i}
    if depth > _MAX_DEPTH:
        return {"foreign": "deeply nested value"}
    if x is None or isinstance(x, (bool, str)):
        return x
    if isinstance(x, int):
        return x if abs(x) < 2**63 else {"float": repr(float(x))}
    if isinstance(x, float):
        return _float(x)
    if isinstance(x, complex):
        return {"complex": [repr(x.real), repr(x.imag)]}
    if isinstance(x, torch.Tensor):
        return _tensor(x)
    if isinstance(x, (np.ndarray, np.generic)):
        return _array(np.asarray(x), scalar=isinstance(x, np.generic))
    if isinstance(x, (list, tuple)):
        items = [encode(v, given, depth + 1) for v in x]
        return {"tuple": items} if isinstance(x, tuple) else {"list": items}
    if isinstance(x, dict):
        return {
            "dict": [[encode(k, (), depth + 1), encode(v, given, depth + 1)] for k, v in x.items()]
        }
    return {"foreign": type(x).__name__}


def _tensor(x: torch.Tensor):
    name = str(x.dtype).removeprefix("torch.")
    if name not in _TORCH or x.is_sparse or x.device.type == "meta":
        return {"foreign": f"{name} tensor"}
    t = x.detach().cpu().contiguous()
    data = t.reshape(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b""
    return {"tensor": name, "shape": list(t.shape), "data": base64.b64encode(data).decode()}


def _array(x: np.ndarray, scalar: bool):
    name = x.dtype.name
    if name not in _NUMPY:
        return {"foreign": f"{name} array"}
    data = np.ascontiguousarray(x).tobytes()
    kind = "scalar" if scalar else "array"
    return {kind: name, "shape": list(x.shape), "data": base64.b64encode(data).decode()}


def decode(x, given: tuple = (), depth: int = 0):
    """The value ``encode`` wrote; ``Malformed`` for anything else."""
    if depth > _MAX_DEPTH + 1:
        raise Malformed("a value nested too deeply")
    if x is None or isinstance(x, (bool, str, int)):
        return x
    if isinstance(x, float):
        return x
    if not isinstance(x, dict) or len(x) not in (1, 3):
        raise Malformed(f"an unexpected value ({type(x).__name__})")
    if len(x) == 1:
        ((tag, v),) = x.items()
        return _decode_one(tag, v, given, depth)
    return _decode_buffer(x)


def _decode_one(tag: str, v, given: tuple, depth: int):
    if tag == "given" and type(v) is int and 0 <= v < len(given):
        return given[v]
    if tag == "float" and isinstance(v, str) and v in ("nan", "inf", "-inf"):
        return float(v)
    if tag == "complex" and isinstance(v, list) and len(v) == 2:
        try:
            return complex(float(v[0]), float(v[1]))
        except (TypeError, ValueError):
            raise Malformed("a complex number that is not one") from None
    if tag in ("list", "tuple") and isinstance(v, list):
        items = [decode(i, given, depth + 1) for i in v]
        return items if tag == "list" else tuple(items)
    if tag == "dict" and isinstance(v, list):
        out = {}
        for pair in v:
            if not (isinstance(pair, list) and len(pair) == 2):
                raise Malformed("a dict entry that is not a pair")
            key = decode(pair[0], (), depth + 1)
            if not isinstance(key, (str, int, float, bool, tuple)) and key is not None:
                raise Malformed("a dict key that cannot be one")
            out[key] = decode(pair[1], given, depth + 1)
        return out
    if tag == "foreign" and isinstance(v, str):
        return _foreign(v[:60])
    raise Malformed(f"an unexpected value tagged {tag[:40]!r}")


def _decode_buffer(x: dict):
    kind = next((k for k in ("tensor", "array", "scalar") if k in x), None)
    if kind is None or set(x) != {kind, "shape", "data"}:
        raise Malformed("a buffer without its dtype, shape and data")
    name, shape, data = x[kind], x["shape"], x["data"]
    table = _TORCH if kind == "tensor" else _NUMPY
    if not isinstance(name, str) or name not in table:
        raise Malformed(f"an unknown dtype {str(name)[:40]!r}")
    if not (
        isinstance(shape, list)
        and len(shape) <= 8
        and all(type(d) is int and 0 <= d < 2**31 for d in shape)
    ):
        raise Malformed("a shape that is not a list of sizes")
    if not isinstance(data, str):
        raise Malformed("buffer data that is not text")
    try:
        raw = base64.b64decode(data, validate=True)
    except ValueError:
        raise Malformed("buffer data that is not base64") from None
    n = math.prod(shape)
    itemsize = table[name].itemsize
    if len(raw) != n * itemsize:
        raise Malformed(f"{len(raw)} bytes for {n} values of {name}")
    if kind == "tensor":
        dtype = table[name]
        flat = torch.frombuffer(bytearray(raw), dtype=torch.uint8) if raw else None
        t = flat.view(dtype) if flat is not None else torch.empty(0, dtype=dtype)
        return t.reshape(shape)
    array = np.frombuffer(raw, dtype=table[name]).reshape(shape).copy()
    return array[()] if kind == "scalar" else array


def frame(message: dict) -> bytes:
    """``message`` as the bytes that carry it."""
    body = json.dumps(message, allow_nan=False).encode()
    if len(body) > MAX_MESSAGE:
        body = json.dumps({"kind": "too_large", "bytes": len(body)}).encode()
    return _HEADER.pack(len(body)) + body


class Frames:
    """Cuts the bytes read from a pipe into messages, checking each as it comes."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[dict]:
        """The messages completed by ``data``; ``Malformed`` for a bad frame."""
        self._buffer += data
        messages = []
        while len(self._buffer) >= _HEADER.size:
            (n,) = _HEADER.unpack_from(self._buffer)
            if n > MAX_MESSAGE:
                raise Malformed(f"a message of {n} bytes, more than the {MAX_MESSAGE} allowed")
            if len(self._buffer) < _HEADER.size + n:
                break
            body = bytes(self._buffer[_HEADER.size : _HEADER.size + n])
            del self._buffer[: _HEADER.size + n]
            try:
                message = json.loads(body)
            except (ValueError, RecursionError):
                raise Malformed("a message that is not JSON") from None
            if not isinstance(message, dict) or not isinstance(message.get("kind"), str):
                raise Malformed("a message without a kind")
            messages.append(message)
        return messages

    @property
    def pending(self) -> int:
        """Bytes of a message not yet complete."""
        return len(self._buffer)
