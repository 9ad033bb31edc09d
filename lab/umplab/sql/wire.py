"""The TDS 7.4 wire format, server side: packets, PRELOGIN, LOGIN7, RPC and transaction requests, tokens.

Written from the protocol specification ([MS-TDS], "Tabular Data Stream Protocol", Microsoft Open
Specifications; sections cited by number) and checked against what python-tds 1.17 expects
(.venv/.../pytds/tds_session.py, tds_reader.py, tls.py). Only what a SQL Server 2019 sends to a TDS 7.4
client is modelled; anything else is refused with a protocol error, as a server would.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

# 2.2.3.1.1 packet types
PKT_SQL_BATCH = 1
PKT_RPC = 3
PKT_REPLY = 4
PKT_ATTENTION = 6
PKT_BULK = 7
PKT_TRANSACTION = 14
PKT_LOGIN7 = 16
PKT_SSPI = 17
PKT_PRELOGIN = 18

STATUS_EOM = 0x01
HEADER = struct.Struct(">BBHHBB")

# 2.2.6.5 PRELOGIN option tokens and encryption values
PL_VERSION, PL_ENCRYPTION, PL_INSTOPT, PL_THREADID, PL_MARS, PL_TERMINATOR = 0, 1, 2, 3, 4, 0xFF
ENCRYPT_OFF, ENCRYPT_ON, ENCRYPT_NOT_SUP, ENCRYPT_REQ = 0, 1, 2, 3

TDS74 = 0x74000004

# 2.2.7 tokens
TOK_COLMETADATA = 0x81
TOK_ERROR = 0xAA
TOK_INFO = 0xAB
TOK_RETURNVALUE = 0xAC
TOK_LOGINACK = 0xAD
TOK_ROW = 0xD1
TOK_ENVCHANGE = 0xE3
TOK_SSPI = 0xED
TOK_DONE = 0xFD
TOK_DONEPROC = 0xFE
TOK_DONEINPROC = 0xFF
TOK_RETURNSTATUS = 0x79

# DONE status bits (2.2.7.6)
DONE_FINAL = 0x00
DONE_MORE = 0x01
DONE_ERROR = 0x02
DONE_INXACT = 0x04
DONE_COUNT = 0x10
DONE_ATTN = 0x20
DONE_SRVERROR = 0x100

# ENVCHANGE types (2.2.7.9)
ENV_DATABASE = 1
ENV_LANGUAGE = 2
ENV_PACKETSIZE = 4
ENV_COLLATION = 7
ENV_BEGINTRAN = 8
ENV_COMMITTRAN = 9
ENV_ROLLBACKTRAN = 10

# data types (2.2.5.4)
T_INTN = 0x26
T_BITN = 0x68
T_FLTN = 0x6D
T_BIGVARBIN = 0xA5
T_BIGVARCHR = 0xA7
T_NVARCHAR = 0xE7
T_NCHAR = 0xEF
T_BIGCHAR = 0xAF
T_GUID = 0x24
T_DECIMALN = 0x6A
T_NUMERICN = 0x6C
T_DATETIMN = 0x6F
T_DATEN = 0x28
T_TIMEN = 0x29
T_DATETIME2N = 0x2A
T_DATETIMEOFFSETN = 0x2B
T_MONEYN = 0x6E

PLP_NULL = 0xFFFFFFFFFFFFFFFF
PLP_UNKNOWN = 0xFFFFFFFFFFFFFFFE

# SQL_Latin1_General_CP1_CI_AS on the wire: LCID 0x0409, flags CI/AI-off/KI/WI, sort id 52 (2.2.5.1.2).
COLLATION_SQL_LATIN1_CP1_CI_AS = bytes.fromhex("0904d00034")

# sp_executesql and friends by ProcID (2.2.6.6)
PROC_IDS = {
    1: "sp_cursor",
    2: "sp_cursoropen",
    3: "sp_cursorprepare",
    4: "sp_cursorexecute",
    5: "sp_cursorprepexec",
    6: "sp_cursorunprepare",
    7: "sp_cursorfetch",
    8: "sp_cursoroption",
    9: "sp_cursorclose",
    10: "sp_executesql",
    11: "sp_prepare",
    12: "sp_execute",
    13: "sp_prepexec",
    14: "sp_prepexecrpc",
    15: "sp_unprepare",
}


class ProtocolError(Exception):
    """The client sent something a SQL Server would not accept; the connection is closed."""


def packets(ptype: int, payload: bytes, packet_size: int, spid: int = 0) -> bytes:
    """A message split into packets of at most ``packet_size`` bytes, the last one with EOM."""
    out = bytearray()
    body = packet_size - HEADER.size
    chunks = [payload[i : i + body] for i in range(0, len(payload), body)] or [b""]
    for n, chunk in enumerate(chunks):
        status = STATUS_EOM if n == len(chunks) - 1 else 0
        out += HEADER.pack(ptype, status, len(chunk) + HEADER.size, spid, (n + 1) & 0xFF, 0)
        out += chunk
    return bytes(out)


# ---------------------------------------------------------------------------------------------- PRELOGIN
def parse_prelogin(data: bytes) -> dict[int, bytes]:
    opts: dict[int, bytes] = {}
    i = 0
    while True:
        if i >= len(data):
            raise ProtocolError("PRELOGIN without terminator")
        token = data[i]
        if token == PL_TERMINATOR:
            return opts
        if i + 5 > len(data):
            raise ProtocolError("truncated PRELOGIN option")
        off, length = struct.unpack_from(">HH", data, i + 1)
        if off + length > len(data):
            raise ProtocolError("PRELOGIN option outside the packet")
        opts[token] = data[off : off + length]
        i += 5


def build_prelogin(version: tuple[int, int, int], encryption: int) -> bytes:
    major, minor, build = version
    fields = [
        (PL_VERSION, struct.pack(">BBHH", major, minor, build, 0)),
        (PL_ENCRYPTION, bytes([encryption])),
        (PL_INSTOPT, b"\x00"),
        (PL_THREADID, b""),
        (PL_MARS, b"\x00"),
    ]
    head = bytearray()
    body = bytearray()
    offset = 5 * len(fields) + 1
    for token, value in fields:
        head += struct.pack(">BHH", token, offset + len(body), len(value))
        body += value
    head.append(PL_TERMINATOR)
    return bytes(head + body)


# ---------------------------------------------------------------------------------------------- LOGIN7
def decode_password(raw: bytes) -> str:
    """2.2.6.4: each byte was nibble-swapped, then XORed with 0xA5; undo it."""
    out = bytearray()
    for b in raw:
        b ^= 0xA5
        out.append(((b << 4) & 0xF0) | (b >> 4))
    return out.decode("utf-16-le")


@dataclass
class Login7:
    tds_version: int
    packet_size: int
    option_flags2: int
    hostname: str
    username: str
    password: str
    appname: str
    servername: str
    library: str
    language: str
    database: str
    sspi: bytes = b""

    @property
    def integrated(self) -> bool:
        return bool(self.option_flags2 & 0x80)  # fIntSecurity


def parse_login7(data: bytes) -> Login7:
    if len(data) < 94:
        raise ProtocolError("LOGIN7 record too short")
    (_length, tds_version, packet_size, _ver, _pid, _conn, _f1, f2, _tf, _f3, _tz, _lcid) = struct.unpack_from(
        "<IIIIIIBBBBiI", data, 0
    )
    offs = struct.unpack_from("<" + "HH" * 9, data, 36)

    def text(k: int) -> str:
        off, n = offs[2 * k], offs[2 * k + 1]
        return data[off : off + 2 * n].decode("utf-16-le")

    pw_off, pw_len = offs[4], offs[5]
    sspi_off, sspi_len = struct.unpack_from("<HH", data, 78)
    return Login7(
        tds_version=tds_version,
        packet_size=packet_size,
        option_flags2=f2,
        hostname=text(0),
        username=text(1),
        password=decode_password(data[pw_off : pw_off + 2 * pw_len]),
        appname=text(3),
        servername=text(4),
        library=text(6),
        language=text(7),
        database=text(8),
        sspi=data[sspi_off : sspi_off + sspi_len],
    )


# ---------------------------------------------------------------------------------------------- reading requests
class Reader:
    def __init__(self, data: bytes, pos: int = 0):
        self.data = data
        self.pos = pos

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise ProtocolError("request ends early")
        b = self.data[self.pos : self.pos + n]
        self.pos += n
        return b

    def unpack(self, fmt: str) -> tuple:
        s = struct.Struct(fmt)
        return s.unpack(self.take(s.size))

    def byte(self) -> int:
        return self.take(1)[0]

    def ushort(self) -> int:
        return self.unpack("<H")[0]

    def ucs2(self, nchars: int) -> str:
        return self.take(2 * nchars).decode("utf-16-le")

    def b_varchar(self) -> str:
        return self.ucs2(self.byte())

    def done(self) -> bool:
        return self.pos >= len(self.data)


def skip_all_headers(r: Reader) -> None:
    """2.2.5.3 ALL_HEADERS (TDS 7.2+): total length including itself, then the headers."""
    total = r.unpack("<I")[0]
    if total < 4:
        raise ProtocolError("bad ALL_HEADERS length")
    r.take(total - 4)


def batch_text(payload: bytes) -> str:
    r = Reader(payload)
    skip_all_headers(r)
    return payload[r.pos :].decode("utf-16-le")


@dataclass
class TypeInfo:
    type_id: int
    size: int = 0
    precision: int = 0
    scale: int = 0
    collation: bytes = b""

    @property
    def plp(self) -> bool:
        return self.type_id in (T_NVARCHAR, T_BIGVARCHR, T_BIGVARBIN) and self.size == 0xFFFF

    def declaration(self) -> str:
        return {
            T_INTN: {1: "tinyint", 2: "smallint", 4: "int", 8: "bigint"}.get(self.size, "int"),
            T_BITN: "bit",
            T_FLTN: "float" if self.size == 8 else "real",
            T_NVARCHAR: "nvarchar",
            T_BIGVARCHR: "varchar",
            T_BIGVARBIN: "varbinary",
        }.get(self.type_id, "sql_variant")


def read_type_info(r: Reader) -> TypeInfo:
    t = r.byte()
    if t in (T_INTN, T_BITN, T_FLTN, T_GUID, T_DATETIMN, T_MONEYN):
        return TypeInfo(t, size=r.byte())
    if t in (T_NVARCHAR, T_NCHAR, T_BIGVARCHR, T_BIGCHAR):
        size = r.ushort()
        return TypeInfo(t, size=size, collation=r.take(5))
    if t == T_BIGVARBIN:
        return TypeInfo(t, size=r.ushort())
    if t in (T_DECIMALN, T_NUMERICN):
        size, prec, scale = r.unpack("<BBB")
        return TypeInfo(t, size=size, precision=prec, scale=scale)
    if t == T_DATEN:
        return TypeInfo(t)
    if t in (T_TIMEN, T_DATETIME2N, T_DATETIMEOFFSETN):
        return TypeInfo(t, scale=r.byte())
    raise ProtocolError(f"parameter type 0x{t:02x} is not supported by the lab server")


def _read_plp(r: Reader) -> bytes | None:
    total = r.unpack("<Q")[0]
    if total == PLP_NULL:
        return None
    out = bytearray()
    while True:
        n = r.unpack("<I")[0]
        if n == 0:
            return bytes(out)
        out += r.take(n)


def read_value(r: Reader, ti: TypeInfo) -> Any:
    t = ti.type_id
    if ti.plp:
        raw = _read_plp(r)
        if raw is None:
            return None
        return raw if t == T_BIGVARBIN else raw.decode("utf-16-le" if t == T_NVARCHAR else "cp1252")
    if t in (T_INTN, T_BITN, T_FLTN, T_MONEYN, T_DATETIMN, T_GUID):
        n = r.byte()
        if n == 0:
            return None
        raw = r.take(n)
        if t == T_INTN:
            return int.from_bytes(raw, "little", signed=True)
        if t == T_BITN:
            return bool(raw[0])
        if t == T_FLTN:
            return struct.unpack("<d" if n == 8 else "<f", raw)[0]
        if t == T_GUID:
            import uuid

            return str(uuid.UUID(bytes_le=raw))
        return raw.hex()
    if t in (T_NVARCHAR, T_NCHAR, T_BIGVARCHR, T_BIGCHAR, T_BIGVARBIN):
        n = r.ushort()
        if n == 0xFFFF:
            return None
        raw = r.take(n)
        if t in (T_NVARCHAR, T_NCHAR):
            return raw.decode("utf-16-le")
        if t == T_BIGVARBIN:
            return raw
        return raw.decode("cp1252")
    if t in (T_DECIMALN, T_NUMERICN):
        n = r.byte()
        if n == 0:
            return None
        raw = r.take(n)
        v = int.from_bytes(raw[1:], "little")
        v = v if raw[0] else -v
        return v / (10**ti.scale) if ti.scale else v
    # date/time: keep the raw bytes as hex; the lab's statements do not take them as parameters
    n = r.byte()
    return None if n == 0 else r.take(n).hex()


@dataclass
class RpcParam:
    name: str
    status: int
    type_info: TypeInfo
    value: Any


@dataclass
class RpcRequest:
    proc: str
    params: list[RpcParam] = field(default_factory=list)


def parse_rpc(payload: bytes) -> list[RpcRequest]:
    """2.2.6.6 RPC request; several calls may be batched (separated by 0x80/0xFF in 7.2+)."""
    r = Reader(payload)
    skip_all_headers(r)
    calls: list[RpcRequest] = []
    while not r.done():
        n = r.ushort()
        if n == 0xFFFF:
            pid = r.ushort()
            name = PROC_IDS.get(pid, f"#proc{pid}")
        else:
            name = r.ucs2(n)
        r.ushort()  # option flags
        call = RpcRequest(name)
        while not r.done():
            nxt = r.data[r.pos]
            if nxt in (0x80, 0xFF):
                # batch separator between RPC calls
                r.pos += 1
                break
            pname = r.b_varchar()
            status = r.byte()
            ti = read_type_info(r)
            call.params.append(RpcParam(pname, status, ti, read_value(r, ti)))
        calls.append(call)
    return calls


@dataclass
class TmRequest:
    kind: int  # 5 begin, 7 commit, 8 rollback
    begin_after: bool = False


def parse_tm(payload: bytes) -> TmRequest:
    r = Reader(payload)
    skip_all_headers(r)
    kind = r.ushort()
    if kind == 5:  # TM_BEGIN_XACT: isolation level, name
        r.byte()
        r.b_varchar() if not r.done() else None
        return TmRequest(5)
    if kind in (7, 8):  # TM_COMMIT_XACT / TM_ROLLBACK_XACT: name, flags (fBeginXact), then begin params
        r.take(r.byte())
        flags = r.byte() if not r.done() else 0
        return TmRequest(kind, begin_after=bool(flags & 1))
    raise ProtocolError(f"transaction manager request {kind} is not supported by the lab server")


# ---------------------------------------------------------------------------------------------- writing tokens
def _b_varchar(s: str) -> bytes:
    b = s.encode("utf-16-le")
    return bytes([len(s)]) + b


def _us_varchar(s: str) -> bytes:
    return struct.pack("<H", len(s)) + s.encode("utf-16-le")


def envchange(kind: int, new: str | bytes, old: str | bytes = "") -> bytes:
    if isinstance(new, bytes) or isinstance(old, bytes):
        nb = new if isinstance(new, bytes) else b""
        ob = old if isinstance(old, bytes) else b""
        body = bytes([kind, len(nb)]) + nb + bytes([len(ob)]) + ob
    else:
        body = bytes([kind]) + _b_varchar(new) + _b_varchar(old)
    return bytes([TOK_ENVCHANGE]) + struct.pack("<H", len(body)) + body


def message(number: int, text: str, severity: int, state: int = 1, server: str = "", proc: str = "") -> bytes:
    """ERROR (severity > 10) or INFO token (2.2.7.10, 2.2.7.13)."""
    body = (
        struct.pack("<iBB", number, state, severity)
        + _us_varchar(text)
        + _b_varchar(server)
        + _b_varchar(proc)
        + struct.pack("<i", 1)
    )
    tok = TOK_ERROR if severity > 10 else TOK_INFO
    return bytes([tok]) + struct.pack("<H", len(body)) + body


def loginack(prog_name: str, version: tuple[int, int, int]) -> bytes:
    major, minor, build = version
    body = (
        bytes([1])  # interface: SQL_TSQL
        + struct.pack(">I", TDS74)
        + _b_varchar(prog_name)
        + struct.pack(">BBH", major, minor, build)
    )
    return bytes([TOK_LOGINACK]) + struct.pack("<H", len(body)) + body


def done(status: int = DONE_FINAL, rowcount: int = 0, curcmd: int = 0, token: int = TOK_DONE) -> bytes:
    return struct.pack("<BHHQ", token, status, curcmd, rowcount)


def returnstatus(value: int = 0) -> bytes:
    return struct.pack("<Bi", TOK_RETURNSTATUS, value)


@dataclass
class Column:
    name: str
    type_id: int
    size: int = 0  # INTN/FLTN/BITN byte size, or max bytes for strings (0xFFFF = MAX)

    def type_info(self, collation: bytes) -> bytes:
        if self.type_id in (T_INTN, T_FLTN, T_BITN):
            return bytes([self.type_id, self.size])
        if self.type_id == T_NVARCHAR:
            return bytes([T_NVARCHAR]) + struct.pack("<H", self.size) + collation
        if self.type_id == T_BIGVARBIN:
            return bytes([T_BIGVARBIN]) + struct.pack("<H", self.size)
        raise ValueError(f"column type 0x{self.type_id:02x}")

    def encode(self, value: Any) -> bytes:
        t = self.type_id
        if t == T_INTN:
            if value is None:
                return b"\x00"
            return bytes([self.size]) + int(value).to_bytes(self.size, "little", signed=True)
        if t == T_BITN:
            return b"\x00" if value is None else b"\x01" + bytes([1 if value else 0])
        if t == T_FLTN:
            return b"\x00" if value is None else b"\x08" + struct.pack("<d", float(value))
        if t in (T_NVARCHAR, T_BIGVARBIN):
            if value is None:
                return struct.pack("<Q", PLP_NULL) if self.size == 0xFFFF else b"\xff\xff"
            raw = value if isinstance(value, bytes) else str(value).encode("utf-16-le")
            if self.size == 0xFFFF:
                out = struct.pack("<Q", len(raw))
                if raw:
                    out += struct.pack("<I", len(raw)) + raw
                return out + struct.pack("<I", 0)
            return struct.pack("<H", len(raw)) + raw
        raise ValueError(f"column type 0x{t:02x}")


def columns_for(names: list[str], rows: list[tuple]) -> list[Column]:
    """Column types for a result set. SQLite values are dynamically typed, so the type of each column is
    the one that holds all of its values: INT (or BIGINT), FLOAT, VARBINARY, else NVARCHAR(4000|MAX)."""
    cols = []
    for i, name in enumerate(names):
        vals = [r[i] for r in rows if r[i] is not None]
        if vals and all(isinstance(v, bool) for v in vals):
            cols.append(Column(name, T_BITN, 1))
        elif vals and all(isinstance(v, int) for v in vals):
            big = any(not -(2**31) <= v < 2**31 for v in vals)
            cols.append(Column(name, T_INTN, 8 if big else 4))
        elif vals and all(isinstance(v, (int, float)) for v in vals):
            cols.append(Column(name, T_FLTN, 8))
        elif vals and all(isinstance(v, bytes) for v in vals):
            longest = max(len(v) for v in vals)
            cols.append(Column(name, T_BIGVARBIN, 8000 if longest <= 8000 else 0xFFFF))
        else:
            longest = max((len(str(v)) for v in vals), default=0)
            cols.append(Column(name, T_NVARCHAR, 8000 if longest <= 4000 else 0xFFFF))
    return cols


def colmetadata(cols: list[Column], collation: bytes) -> bytes:
    out = bytearray([TOK_COLMETADATA]) + struct.pack("<H", len(cols))
    for c in cols:
        out += struct.pack("<IH", 0, 0x0001)  # user type, flags: nullable
        out += c.type_info(collation)
        out += _b_varchar(c.name)
    return bytes(out)


def row(cols: list[Column], values: tuple) -> bytes:
    return bytes([TOK_ROW]) + b"".join(c.encode(v) for c, v in zip(cols, values, strict=False))


def returnvalue(ordinal: int, name: str, value: int) -> bytes:
    """RETURNVALUE of an INT output parameter (sp_prepexec's handle)."""
    return (
        struct.pack("<BH", TOK_RETURNVALUE, ordinal)
        + _b_varchar(name)
        + bytes([1])  # status: output parameter
        + struct.pack("<IH", 0, 0x0001)
        + bytes([T_INTN, 4, 4])
        + struct.pack("<i", value)
    )
