"""Streaming: the peak memory of an import does not grow with the size of the file."""

from __future__ import annotations

import gc
import tracemalloc
from pathlib import Path

from evidence import phone
from evidence.importers.engine import ImportOptions, run_import
from tests import importfixtures as fx


def _peak(log, path: Path, dry_run: bool = False) -> tuple[float, int]:
    gc.collect()
    tracemalloc.start()
    try:
        options = ImportOptions(batch_size=500, keep_source=False, dry_run=dry_run)
        summary = run_import(log, [path], options)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return peak / 2**20, summary.new


def test_peak_memory_is_independent_of_file_size(log, tmp_path: Path) -> None:
    # Few numbers, so the phone-number cache and per-number counts stay the same size;
    # the phone-number data (tens of MB, loaded once per process) is loaded before measuring.
    phone.normalize("13800138000")
    small = fx.write_sms_xml(tmp_path / "small.xml", fx.collection_sms(1000, numbers=10))
    large = fx.write_sms_xml(
        tmp_path / "large.xml", fx.collection_sms(4000, start=100_000, numbers=10)
    )
    assert large.stat().st_size > 3.5 * small.stat().st_size
    small_peak, small_new = _peak(log, small)
    large_peak, large_new = _peak(log, large)
    print(f"peak {small_peak:.2f} MiB for 1000 records, {large_peak:.2f} MiB for 4000")
    assert (small_new, large_new) == (1000, 4000)
    # Four times the records: the peak may not grow with them (a batch is 500 records).
    assert large_peak < small_peak * 1.35 + 0.5, (small_peak, large_peak)


def test_a_dry_run_does_not_keep_its_keys_in_memory(log, tmp_path: Path) -> None:
    # A dry run remembers the keys it met (to count repeats) in a temporary database,
    # not in a Python set, which would grow by ~90 bytes a record (1.3 MiB here).
    phone.normalize("13800138000")
    small = fx.write_sms_xml(tmp_path / "small.xml", fx.collection_sms(1000, numbers=10))
    large = fx.write_sms_xml(
        tmp_path / "large.xml", fx.collection_sms(16000, start=100_000, numbers=10)
    )
    small_peak, small_new = _peak(log, small, dry_run=True)
    large_peak, large_new = _peak(log, large, dry_run=True)
    print(f"dry run: peak {small_peak:.2f} MiB for 1000 records, {large_peak:.2f} MiB for 16000")
    assert (small_new, large_new) == (1000, 16000) and log.count() == 0
    assert large_peak < small_peak + 0.4, (small_peak, large_peak)
