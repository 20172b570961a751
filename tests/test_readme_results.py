"The README quotes no hand-typed result: its results section is what the kept run's files give."
from pathlib import Path
from embedding_lab.report import readme_results, results_markdown

ROOT = Path(__file__).resolve().parent.parent


def test_the_readme_results_section_is_written_from_the_kept_run():
    folder, section = readme_results(ROOT / "README.md")
    kept = ROOT / folder
    assert (kept / "metrics.json").exists() and (kept / "run.json").exists(), f"{folder}: no kept run"
    assert section == results_markdown(kept), \
        f"README's results section differs from {folder}: run `embedding-lab results RUN --name {kept.name}`"
