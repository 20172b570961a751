"""Convert public copies of MTEB(eng, v2) test sets into the files that ship in embedding_lab/mteb_local/.

Run once (the output is committed):

    python scripts/mteb_local.py --sources DIR

DIR holds git repositories of the sources below, each either a clone at DIR/OWNER/NAME or a bare
copy at DIR/OWNER+NAME/repo; every file is read at the pinned commit with `git show COMMIT:PATH`, so
the output does not depend on what the clones have checked out. For each task the script writes one
gzipped JSON-lines file per split (rows in mteb's loader columns), and `manifest.json` records each
output file's sha256 and rows and each source file's repository, commit, path, sha256 and license.
"""
from __future__ import annotations
import argparse, csv, gzip, hashlib, io, json, subprocess
from pathlib import Path

SENTEVAL = ("amao0o0/SynWMD", "59042a92e862db58bd01e47914345d2f52d2a4a3", "data/downstream/STS")
BIOSSES = ("kathrinblagec/neural-sentence-embedding-models-for-biomedical-applications",
           "36a0baff84935e9adf3affd4ec92940fd5332efe", "data")
POLYAI = ("PolyAI-LDN/task-specific-datasets", "57ec275d8078af65b7731c2a98be812d844a6d6b", "banking_data")

STS_SUBSETS = {   # SentEval's lower-cased, tokenised STS test sets, the text mteb's sts1N-sts datasets carry
    "STS12": ("STS12-en-test", ["MSRpar", "MSRvid", "SMTeuroparl", "surprise.OnWN", "surprise.SMTnews"]),
    "STS13": ("STS13-en-test", ["FNWN", "headlines", "OnWN"]),     # SMT is not redistributable (LDC): left out, as mteb does
    "STS14": ("STS14-en-test", ["deft-forum", "deft-news", "headlines", "images", "OnWN", "tweet-news"]),
    "STS15": ("STS15-en-test", ["answers-forums", "answers-students", "belief", "headlines", "images"]),
}
STS_LICENSES = {
    "STS12": "SemEval-2012 STS test data; MSRpar and MSRvid under Microsoft Research's research license terms named in "
             "the task's 00-readme.txt (redistributed by SentEval and by mteb)",
    "STS13": "SemEval-2013 STS test data (the SMT subset, not redistributable, is not included)",
    "STS14": "SemEval-2014 STS test data (image descriptions are free, see the task's 00-readme.txt)",
    "STS15": "SemEval-2015 STS test data; answers-forums is CC BY-SA 3.0 (Stack Exchange): its license text and "
             "attribution files ship beside it in licenses/",
}
EXCLUDED = {
    "STSBenchmark": "kept out on purpose: an outside held-out check",
    "SICK-R": "kept out on purpose: an outside held-out check",
    "SciFact": "kept out on purpose: an outside held-out check",
    "STS13 SMT subset": "its license forbids redistribution (distributed by LDC only); mteb's STS13 leaves it out too",
}


def git_dir(root: Path, repo: str) -> Path:
    "The git repository of `repo` (OWNER/NAME) under `root`: a clone or a bare copy."
    for d in (root / repo / ".git", root / repo.replace("/", "+") / "repo", root / repo):
        if d.exists(): return d
    raise SystemExit(f"source repository {repo} not found under {root} (clone it there at the pinned commit)")


def read_source(root: Path, repo: str, commit: str, path: str) -> bytes:
    r = subprocess.run(["git", f"--git-dir={git_dir(root, repo)}", "show", f"{commit}:{path}"], capture_output=True)
    if r.returncode: raise SystemExit(f"{repo}@{commit}:{path}: {r.stderr.decode().strip()}")
    return r.stdout


def sha256(b: bytes) -> str: return hashlib.sha256(b).hexdigest()


class Sources:
    "Reads source files and remembers each one (repository, commit, path, sha256) for the manifest."
    def __init__(self, root: Path): self.root, self.used = root, []
    def __call__(self, repo: str, commit: str, path: str) -> bytes:
        b = read_source(self.root, repo, commit, path)
        self.used.append({"repository": repo, "commit": commit, "path": path, "sha256": sha256(b)})
        return b
    def take(self) -> list:
        out, self.used = self.used, []
        return out


def write_jsonl_gz(rows: list[dict], path: Path) -> dict:
    "Rows as gzipped JSON lines, byte-identical on every run (no time stamp in the gzip header)."
    raw = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode()
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0) as f: f.write(raw)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue())
    return {"rows": len(rows), "sha256": sha256(buf.getvalue()), "bytes": len(buf.getvalue())}


def sts_rows(src: Sources, task: str) -> list[dict]:
    folder, subsets = STS_SUBSETS[task]
    repo, commit, base = SENTEVAL
    rows = []
    for sub in subsets:
        inp = src(repo, commit, f"{base}/{folder}/STS.input.{sub}.txt").decode("utf-8").split("\n")
        gold = src(repo, commit, f"{base}/{folder}/STS.gs.{sub}.txt").decode("utf-8").split("\n")
        for i, g in enumerate(gold):
            if not g.strip(): continue                      # STS15: pairs without a gold score are not test pairs
            s1, s2 = inp[i].split("\t")[:2]
            rows.append({"sentence1": s1.strip(), "sentence2": s2.strip(), "score": float(g)})
    return rows


def biosses_rows(src: Sources) -> list[dict]:
    repo, commit, base = BIOSSES
    lines = [l for l in src(repo, commit, f"{base}/biosses_sentence_pairs_test_derived_from_github.txt")
             .decode("utf-8").split("\n") if l != ""]
    scores = [float(s) for s in src(repo, commit, f"{base}/annotation_scores_from_github.txt").decode().split()]
    assert len(lines) == 2 * len(scores) == 200, (len(lines), len(scores))
    return [{"sentence1": a.strip(), "sentence2": b.strip(), "score": s}
            for a, b, s in zip(lines[0::2], lines[1::2], scores)]


def banking_rows(src: Sources) -> dict[str, list[dict]]:
    repo, commit, base = POLYAI
    names = sorted(json.loads(src(repo, commit, f"{base}/categories.json")))   # label ids: the sorted category names
    out = {}
    for split in ("train", "test"):
        rows = list(csv.DictReader(io.StringIO(src(repo, commit, f"{base}/{split}.csv").decode("utf-8"))))
        out[split] = [{"text": r["text"], "label": names.index(r["category"]), "label_text": r["category"]} for r in rows]
    return out


def build(root: Path, out: Path) -> dict:
    src = Sources(root)
    tasks = {}
    def add(task, splits: dict, license: str, note: str = "", comparable: bool = True):
        files = {s: {"file": f"{task}/{s}.jsonl.gz", **write_jsonl_gz(rows, out / task / f"{s}.jsonl.gz")}
                 for s, rows in splits.items()}
        tasks[task] = {"files": files, "sources": src.take(), "license": license, "comparable": comparable, "note": note}
    for t in STS_SUBSETS: add(t, {"test": sts_rows(src, t)}, STS_LICENSES[t])
    add("BIOSSES", {"test": biosses_rows(src)}, "GPL-3.0 (BIOSSES, Sogancioglu et al. 2017)",
        "scores are the mean of the five annotators")
    add("Banking77Classification", banking_rows(src), "CC BY 4.0 (PolyAI task-specific-datasets)",
        "train is the pool mteb draws its few-shot classifier training sets from")
    repo, commit, base = SENTEVAL                           # license files that must travel with STS15 answers-forums
    lic = out / "licenses"; lic.mkdir(parents=True, exist_ok=True)
    for name, dest in (("STS.input.answers-forums.LICENSE", "STS15-answers-forums.LICENSE.txt"),
                       ("STS.answers-forums.zip", "STS15-answers-forums.FILES.zip")):
        (lic / dest).write_bytes(src(repo, commit, f"{base}/STS15-en-test/{name}"))
    tasks["STS15"]["sources"] += src.take()
    manifest = {"format": 1, "tasks": tasks, "excluded": EXCLUDED,
                "about": "Public copies of MTEB(eng, v2) test sets, in the columns mteb's loader gives; "
                         "built by scripts/mteb_local.py."}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n")
    return manifest


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sources", required=True, type=Path, help="folder with the source repositories")
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "embedding_lab" / "mteb_local")
    a = ap.parse_args()
    m = build(a.sources, a.out)
    for t, d in m["tasks"].items():
        print(t, {s: f["rows"] for s, f in d["files"].items()}, sum(f["bytes"] for f in d["files"].values()), "bytes")
