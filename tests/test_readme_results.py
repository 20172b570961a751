"The README and the results page quote no hand-typed result: each results section is what its kept run's files give."
from pathlib import Path
from embedding_lab.report import readme_results, results_markdown

ROOT = Path(__file__).resolve().parent.parent


def test_each_results_section_is_written_from_its_kept_run():
    sections = readme_results(ROOT / "docs" / "results.md")
    assert {Path(f).name for f, _ in sections} >= {"quick", "study"}
    for folder, section in sections:
        kept = ROOT / folder
        assert (kept / "metrics.json").exists() and (kept / "run.json").exists(), f"{folder}: no kept run"
        assert section == results_markdown(kept), \
            f"docs/results.md's section differs from {folder}: run `embedding-lab results RUN --name {kept.name}`"
