"""PCD parser: hand-built files in every DATA mode, bad input, and the real KITTI .pcd.xz scans."""

from __future__ import annotations

import hashlib
import lzma
from pathlib import Path

import numpy as np
import pytest

from drivestack.core.errors import DataError
from drivestack.ingest.pcd import lzf_decompress, parse_pcd, pcd_to_point_cloud, read_pcd

HEADER = (
    "# .PCD v0.7\nVERSION 0.7\nFIELDS x y z rgb normal _ label\nSIZE 4 4 4 4 4 1 2\nTYPE F F F U F U U\n"
    "COUNT 1 1 1 1 2 1 1\nWIDTH {n}\nHEIGHT 1\nVIEWPOINT 0 0 0 1 0 0 0\nPOINTS {n}\nDATA {mode}\n"
)
DTYPE = np.dtype(
    [
        ("x", "<f4"),
        ("y", "<f4"),
        ("z", "<f4"),
        ("rgb", "<u4"),
        ("normal", "<f4", (2,)),
        ("_", "u1"),
        ("label", "<u2"),
    ]
)


def _table(n: int = 5) -> np.ndarray:
    t = np.zeros(n, dtype=DTYPE)
    t["x"] = np.arange(n) * 1.5
    t["y"] = -np.arange(n)
    t["z"] = 0.25
    t["rgb"] = np.arange(n) * 1000
    t["normal"] = np.stack([np.arange(n), -np.arange(n)], axis=1)
    t["label"] = 7
    return t


def _check(pcd_cols: dict, t: np.ndarray) -> None:
    np.testing.assert_array_equal(pcd_cols["x"], t["x"])
    np.testing.assert_array_equal(pcd_cols["rgb"], t["rgb"])
    np.testing.assert_array_equal(pcd_cols["normal_1"], t["normal"][:, 1])
    np.testing.assert_array_equal(pcd_cols["label"], t["label"])
    assert pcd_cols["label"].dtype == np.uint16
    assert not any(k.startswith("_") for k in pcd_cols)


def test_binary_with_mixed_fields_and_trailing_zeros() -> None:
    t = _table()
    raw = HEADER.format(n=5, mode="binary").encode() + t.tobytes() + b"\0" * 100
    pcd = parse_pcd(raw)
    _check(dict(pcd.columns), t)
    cloud = pcd_to_point_cloud(pcd, frame="lidar")
    assert len(cloud) == 5 and cloud.xyz_m.dtype == np.float32
    assert set(cloud.attributes) == {"rgb", "normal_0", "normal_1", "label"}


def test_ascii() -> None:
    t = _table(3)
    rows = [
        f"{r['x']} {r['y']} {r['z']} {r['rgb']} {r['normal'][0]} {r['normal'][1]} 0 {r['label']}"
        for r in t
    ]
    pcd = parse_pcd((HEADER.format(n=3, mode="ascii") + "\n".join(rows) + "\n").encode())
    _check(dict(pcd.columns), t)


def _lzf_literals(data: bytes) -> bytes:
    out = bytearray()
    for i in range(0, len(data), 32):
        chunk = data[i : i + 32]
        out.append(len(chunk) - 1)
        out += chunk
    return bytes(out)


def test_binary_compressed_is_column_major() -> None:
    t = _table(4)
    plain = b"".join(np.ascontiguousarray(t[name]).tobytes() for name in DTYPE.names or ())
    block = _lzf_literals(plain)
    raw = (
        HEADER.format(n=4, mode="binary_compressed").encode()
        + np.array([len(block), len(plain)], "<u4").tobytes()
        + block
    )
    _check(dict(parse_pcd(raw).columns), t)


def test_lzf_back_reference_overlapping() -> None:
    # literal "abc", then copy 4 bytes from 3 back (overlaps the bytes being written)
    stream = bytes([2]) + b"abc" + bytes([(2 << 5) | 0, 2])
    assert lzf_decompress(stream, 7) == b"abcabca"
    with pytest.raises(ValueError):
        lzf_decompress(bytes([(2 << 5), 9]), 4)


def test_truncated_binary_names_the_point() -> None:
    raw = HEADER.format(n=5, mode="binary").encode() + _table().tobytes()[:-30]
    with pytest.raises(DataError, match=r"truncated.*5 points") as err:
        parse_pcd(raw, "a.pcd")
    assert err.value.path == "a.pcd" and err.value.record == "point 3"


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda h: h.replace("POINTS 5\n", ""), "no POINTS"),
        (lambda h: h.replace("TYPE F F F U F U U", "TYPE F F F X F U U"), "unsupported TYPE"),
        (lambda h: h.replace("SIZE 4 4 4 4 4 1 2", "SIZE 4 4 4"), "3 entries for 7 FIELDS"),
        (lambda h: h.replace("DATA binary", "DATA zip"), "unknown DATA mode"),
        (lambda h: h.replace("WIDTH 5", "WIDTH 4"), "WIDTH x HEIGHT"),
    ],
)
def test_bad_headers(edit, match) -> None:  # type: ignore[no-untyped-def]
    raw = edit(HEADER.format(n=5, mode="binary")).encode() + _table().tobytes()
    with pytest.raises(DataError, match=match):
        parse_pcd(raw)


def test_nan_point_is_an_error_or_dropped() -> None:
    t = _table()
    t["y"][2] = np.nan
    pcd = parse_pcd(HEADER.format(n=5, mode="binary").encode() + t.tobytes(), "n.pcd")
    with pytest.raises(DataError, match="NaN") as err:
        pcd_to_point_cloud(pcd, frame="lidar")
    assert err.value.record == "point 2" and err.value.field == "y"
    assert len(pcd_to_point_cloud(pcd, frame="lidar", drop_nonfinite=True)) == 4


def test_corrupt_xz(tmp_path: Path) -> None:
    good = lzma.compress(HEADER.format(n=5, mode="binary").encode() + _table().tobytes())
    bad = tmp_path / "cut.pcd.xz"
    bad.write_bytes(good[: len(good) // 2])
    with pytest.raises(DataError, match="xz"):
        read_pcd(bad)


def test_xz_trailing_bytes_that_are_no_stream_are_an_error(tmp_path: Path) -> None:
    """lzma.decompress drops bytes after the last stream that are not one; xz -d refuses them."""
    plain = HEADER.format(n=5, mode="binary").encode() + _table().tobytes()
    good = lzma.compress(plain)
    for tail in (b"junk", b"\0\0\0", good[:20]):  # garbage, bad padding, a cut second stream
        path = tmp_path / "tail.pcd.xz"
        path.write_bytes(good + tail)
        with pytest.raises(DataError, match="after the end of the xz stream") as err:
            read_pcd(path)
        assert err.value.path == str(path) and err.value.record == f"byte {len(good)}"


def test_xz_concatenated_streams_and_padding_are_one_file(tmp_path: Path) -> None:
    plain = HEADER.format(n=5, mode="binary").encode() + _table().tobytes()
    path = tmp_path / "multi.pcd.xz"
    path.write_bytes(lzma.compress(plain[:100]) + b"\0" * 8 + lzma.compress(plain[100:]))
    _check(dict(read_pcd(path).columns), _table())


def test_bytes_after_the_points_are_ignored_plain_and_xz_alike(tmp_path: Path) -> None:
    """The PCD payload rules do not depend on the container: bytes after POINTS points (a
    writer's zero padding) are ignored in a .pcd and inside a .pcd.xz stream alike."""
    plain = HEADER.format(n=5, mode="binary").encode() + _table().tobytes() + b"\0" * 12
    (tmp_path / "a.pcd").write_bytes(plain)
    (tmp_path / "a.pcd.xz").write_bytes(lzma.compress(plain))
    for name in ("a.pcd", "a.pcd.xz"):
        _check(dict(read_pcd(tmp_path / name).columns), _table())


@pytest.mark.parametrize("token", ["1_0", "\uff11", "\u0663"])
def test_ascii_refuses_python_only_number_spellings(token: str) -> None:
    """float("1_0") == 10.0 and float("\uff11") == 1.0, but PCL's strtod stops at them."""
    header = HEADER.format(n=1, mode="ascii").replace("VIEWPOINT 0 0 0 1 0 0 0\n", "")
    raw = (header + f"1 2 3 4 0.5 {token} 0 7\n").encode()
    with pytest.raises(DataError, match="non-numeric value") as err:  # non-ASCII: as U+FFFD
        parse_pcd(raw)
    assert (err.value.record, err.value.field) == ("line 11", "normal_1")


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        (
            "WIDTH 10\nHEIGHT 1\nVIEWPOINT 0 0 0 1 0 0 0\nPOINTS 10",
            "WIDTH 1_0\nHEIGHT 1\nVIEWPOINT 0 0 0 1 0 0 0\nPOINTS 1_0",
            "POINTS",
        ),
        ("VIEWPOINT 0 0 0 1", "VIEWPOINT 0 0 0 1_0", "VIEWPOINT"),
    ],
)
def test_header_refuses_python_only_number_spellings(old: str, new: str, field: str) -> None:
    """int("1_0") == 10: WIDTH 1_0 / POINTS 1_0 read ten points before."""
    header = HEADER.format(n=10, mode="ascii")
    assert old in header
    raw = (header.replace(old, new) + "1 2 3 4 0.5 1 0 7\n" * 10).encode()
    with pytest.raises(DataError) as err:
        parse_pcd(raw)
    assert (err.value.record, err.value.field) == ("header", field)


def test_empty_file_says_so(tmp_path: Path) -> None:
    for name in ("scan.pcd", "scan.pcd.xz"):
        (tmp_path / name).write_bytes(b"")
        with pytest.raises(DataError, match=r"scan\.pcd(\.xz)?: empty file \(0 bytes\)"):
            read_pcd(tmp_path / name)


@pytest.mark.data
def test_real_kitti_tracking_pcd_xz(shared_data: Path) -> None:
    folder = shared_data / "kitti_tracking/training/velodyne_pcd_xz/0000"
    sha = {
        line.split()[1]: line.split()[0]
        for line in (folder.parent / "ORIGINAL_PCD_SHA256.txt").read_text().splitlines()
        if line.strip()
    }
    raw = lzma.decompress((folder / "000120.pcd.xz").read_bytes())
    assert hashlib.sha256(raw).hexdigest() == sha["000120.pcd"]
    pcd = read_pcd(folder / "000074.pcd.xz")
    assert pcd.num_points == 124096 and list(pcd.columns) == ["x", "y", "z", "intensity"]
    cloud = pcd_to_point_cloud(pcd, frame="lidar")
    assert (
        float(cloud.attributes["intensity"].min()) >= 0.0
        and float(cloud.attributes["intensity"].max()) <= 1.0
    )
    assert 60 < float(np.abs(cloud.xyz_m[:, :2]).max()) < 130  # a full 360 degree scan


@pytest.mark.parametrize("count", ["20000000", "100000000000000000000"])
def test_a_huge_count_is_a_corrupt_header(count: str) -> None:
    # a 104-byte ASCII file with COUNT 20000000 took 3.8 GB before a MemoryError; one of
    # 10**20 crashed inside numpy (invalid shape)
    head = HEADER.replace("COUNT 1 1 1 1 2 1 1", f"COUNT 1 1 {count} 1 2 1 1")
    with pytest.raises(DataError) as err:
        parse_pcd(head.format(n=0, mode="ascii").encode(), "c.pcd")
    assert err.value.record == "header" and err.value.field == "z"
    assert f"COUNT {count}: a point of more than 65536 bytes" in str(err.value)


def test_xz_past_its_limit_is_refused_before_it_is_held(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 458 kB of xz (a 1-point PCD and 3 GiB of zero padding) grew to 3.2 GB, then crashed
    import drivestack.ingest.pcd as pcd_module

    monkeypatch.setattr(pcd_module, "MAX_PCD_XZ_BYTES", 4096)
    body = HEADER.format(n=5, mode="binary").encode() + _table().tobytes()
    (tmp_path / "ok.pcd.xz").write_bytes(lzma.compress(body))
    assert len(read_pcd(tmp_path / "ok.pcd.xz").columns["x"]) == 5
    (tmp_path / "bomb.pcd.xz").write_bytes(lzma.compress(body + bytes(100_000)))
    with pytest.raises(DataError, match=r"bomb\.pcd\.xz: decompresses to more than 4096 bytes"):
        read_pcd(tmp_path / "bomb.pcd.xz")


@pytest.mark.parametrize(
    ("typ", "value"),
    [("I", "9223372036854775807"), ("U", "9007199254740993"), ("U", "1630000000123456789")],
)
def test_64_bit_ascii_integers_are_read_exactly(typ: str, value: str) -> None:
    # read as float64: 2**63 - 1 wrapped to -2**63, 2**53 + 1 came back as 2**53, a ns
    # timestamp moved by up to 256 ns
    head = (
        f"VERSION 0.7\nFIELDS x y z id\nSIZE 4 4 4 8\nTYPE F F F {typ}\nCOUNT 1 1 1 1\n"
        "WIDTH 2\nHEIGHT 1\nPOINTS 2\nDATA ascii\n"
    )
    pcd = parse_pcd((head + f"0 0 0 {value}\n1 1 1 7\n").encode(), "i.pcd")
    assert pcd.columns["id"].tolist() == [int(value), 7]
    for bad in ("18446744073709551616", "1.5", "-1" if typ == "U" else "9223372036854775808"):
        with pytest.raises(DataError, match=f"{bad} is not an integer in") as err:
            parse_pcd((head + f"0 0 0 7\n1 1 1 {bad}\n").encode(), "i.pcd")
        assert err.value.field == "id" and err.value.record == "line 11"


def test_a_header_of_64_lines_is_read_and_the_65th_line_is_refused_by_number() -> None:
    """Header lines count up to 64, comments and blank lines included: the fixture header has
    11 lines, so 53 comment lines before it end with DATA at line 64 (read), 54 put it at line
    65 (refused, naming line 65 and no DATA line in the first 64)."""
    points = _table().tobytes()
    body = HEADER.format(n=5, mode="binary")
    assert body.count("\n") == 11
    pcd = parse_pcd(("# c\n" * 53 + body).encode() + points, "a.pcd")
    _check(dict(pcd.columns), _table())
    with pytest.raises(DataError, match="no DATA line in the first 64 header lines") as err:
        parse_pcd(("# c\n" * 54 + body).encode() + points, "a.pcd")
    assert err.value.record == "header line 65"
    with pytest.raises(DataError, match="first 64 header lines") as err:
        parse_pcd(b"\n" * 100_000, "blank.pcd")
    assert err.value.record == "header line 65"
