"The README quotes no hand-typed result: each results section is what its kept run's files give."
from pathlib import Path
from embedding_lab.report import readme_results, results_markdown

ROOT = Path(__file__).resolve().parent.parent


def test_each_readme_results_section_is_written_from_its_kept_run():
    sections = readme_results(ROOT / "README.md")
    assert sections
    for folder, section in sections:
        kept = ROOT / folder
        assert (kept / "metrics.json").exists() and (kept / "run.json").exists(), f"{folder}: no kept run"
        assert section == results_markdown(kept), \
            f"README's results section differs from {folder}: run `embedding-lab results RUN --name {kept.name}`"
