"""Topic chips on the real development polls: none of the displayed chips is feed-internal junk."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from aggregator.cli import cli
from aggregator.evaluation.chips import evaluate_chips, load_snapshot
from aggregator.evaluation.data import EvalDataError

DAILY = Path(__file__).resolve().parents[2] / "shared/data/feeds/news_snapshots/gesab001-headlines/daily"
DEV_DAYS = ("20200428", "20200430", "20200501", "20200503", "20200504", "20210917", "20210920")


def _dev_polls() -> list[Path]:
    if not DAILY.is_dir():
        pytest.skip(f"real feed polls not found at {DAILY}: this check needs ../shared/data")
    polls = [p for p in sorted(DAILY.iterdir()) if p.name[:8] in DEV_DAYS]
    assert len(polls) == len(DEV_DAYS)
    return polls


def test_no_displayed_chip_is_junk_on_the_real_development_days() -> None:
    report = evaluate_chips(_dev_polls())
    assert report.junk == 0, report.junk_examples
    assert report.chips > 1000 and report.stories_with_chips > 500  # chips are still shown
    assert report.as_dict()["raw_junk_share"] > 0.1  # the raw feeds do carry junk


def test_snapshots_other_than_the_development_polls_are_refused(tmp_path: Path) -> None:
    folder = tmp_path / "20200505T073745_x"  # not a development poll
    folder.mkdir()
    with pytest.raises(EvalDataError, match="not one of the development polls"):
        load_snapshot(folder)
    result = CliRunner().invoke(cli, ["eval", "chips", str(folder)])
    assert result.exit_code != 0 and "not one of the development polls" in result.output
