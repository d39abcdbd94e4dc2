"""TensorBoard event files, written by hand: TFRecord framing around Event protobufs.

Each record is `uint64 length | uint32 masked_crc32c(length) | data | uint32
masked_crc32c(data)`, little-endian. Only what scalar summaries need is encoded: an Event
(wall_time = 1, step = 2, file_version = 3, summary = 5) holding a Summary whose Values
carry a tag (1) and a simple_value (2). Pure Python, so it also runs under Pyodide.
"""

import os
import socket
import struct
import time

FILE_VERSION = "brain.Event:2"
_MASK_DELTA = 0xA282EAD8


def _crc32c_table():
    table = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
        table.append(crc)
    return table


_TABLE = _crc32c_table()


def crc32c(data):
    crc = 0xFFFFFFFF
    for byte in data:
        crc = _TABLE[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc32c(data):
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + _MASK_DELTA) & 0xFFFFFFFF


def tfrecord(data):
    """One TFRecord: the framing TensorBoard's reader checks, CRCs included."""
    header = struct.pack("<Q", len(data))
    return (header + struct.pack("<I", masked_crc32c(header)) + data
            + struct.pack("<I", masked_crc32c(data)))


def _varint(value):
    out = bytearray()
    value &= (1 << 64) - 1
    while True:
        bits = value & 0x7F
        value >>= 7
        if value:
            out.append(bits | 0x80)
        else:
            out.append(bits)
            return bytes(out)


def _field(number, wire_type):
    return _varint((number << 3) | wire_type)


def _bytes_field(number, payload):
    return _field(number, 2) + _varint(len(payload)) + payload


def scalar_summary(tag, value):
    """A Summary message with one simple_value."""
    entry = _bytes_field(1, tag.encode("utf-8")) + _field(2, 5) + struct.pack("<f", value)
    return _bytes_field(1, entry)


def event(step=0, wall_time=None, file_version=None, summary=None):
    data = _field(1, 1) + struct.pack("<d", time.time() if wall_time is None else wall_time)
    data += _field(2, 0) + _varint(int(step))
    if file_version is not None:
        data += _bytes_field(3, file_version.encode("utf-8"))
    if summary is not None:
        data += _bytes_field(5, summary)
    return data


class EventFileWriter:
    """Appends scalar events to `<log_dir>/events.out.tfevents.<time>.<host>.<pid>.<n>.v2`."""

    _count = 0

    def __init__(self, log_dir):
        os.makedirs(log_dir, exist_ok=True)
        EventFileWriter._count += 1
        name = (f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}."
                f"{os.getpid()}.{EventFileWriter._count}.v2")
        self.path = os.path.join(log_dir, name)
        self._file = open(self.path, "ab")
        self._write(event(file_version=FILE_VERSION))

    def _write(self, data):
        self._file.write(tfrecord(data))

    def scalar(self, tag, value, step):
        self._write(event(step=step, summary=scalar_summary(tag, float(value))))

    def flush(self):
        self._file.flush()

    def close(self):
        if not self._file.closed:
            self._file.close()
