"""Convert public copies of MTEB(eng, v2) test sets into the files that ship in embedding_lab/mteb_local/.

Run once (the output is committed):

    python scripts/mteb_local.py --sources DIR

DIR holds git repositories of the sources below, each either a clone at DIR/OWNER/NAME or a bare
copy (or a clone) at DIR/OWNER+NAME/repo; every file is read at the pinned commit with `git show COMMIT:PATH`, so
the output does not depend on what the clones have checked out. For each task the script writes one
gzipped JSON-lines file per split (rows in mteb's loader columns), and `manifest.json` records each
output file's sha256 and rows and each source file's repository, commit, path, sha256 and license.
"""
from __future__ import annotations
import argparse, csv, gzip, hashlib, io, json, pickle, re, subprocess
from pathlib import Path

SENTEVAL = ("amao0o0/SynWMD", "59042a92e862db58bd01e47914345d2f52d2a4a3", "data/downstream/STS")
BIOSSES = ("kathrinblagec/neural-sentence-embedding-models-for-biomedical-applications",
           "36a0baff84935e9adf3affd4ec92940fd5332efe", "data")
POLYAI = ("PolyAI-LDN/task-specific-datasets", "57ec275d8078af65b7731c2a98be812d844a6d6b", "banking_data")
ARGUANA = ("cchang-vassar/Semantic-Relations-in-Vector-Embeddings", "e48ef4ec3b94bd9ae84e588fe35b30a4cfaa291c",
           "arguana-counterargs-corpus/02-extracted-arguments")   # the ArguAna Counterargs Corpus (removed from the repo later)
CASTORINI = ("castorini/data", "056cbbcbf997cc0b35032430110c5e5e5525700a", "twitterPPDB")   # Twitter URL corpus (Lan et al. 2017)
BARTSCORE = ("neulab/BARTScore", "248f511cb34ae3753fc81f7d7a945de5bfe33458", "SUM/SummEval")   # SummEval, 100 x 16 + 11 refs

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
    for d in (root / repo / ".git", root / repo.replace("/", "+") / "repo" / ".git", root / repo.replace("/", "+") / "repo",
              root / repo):
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
    def folder(self, repo: str, commit: str, path: str, keep) -> dict[str, bytes]:
        """Every file under `path` whose path `keep(path)` accepts, read at the pinned commit in one `git cat-file` pass.
        The manifest gets one entry for the folder: its git tree id, the number of files read and a sha256 over the
        sorted lines `path<TAB>sha256(content)` of those files."""
        git = f"--git-dir={git_dir(self.root, repo)}"
        tree = subprocess.run(["git", git, "rev-parse", f"{commit}:{path}"], capture_output=True, text=True)
        if tree.returncode: raise SystemExit(f"{repo}@{commit}:{path}: {tree.stderr.strip()}")
        ls = subprocess.run(["git", git, "ls-tree", "-r", commit, "--", path], capture_output=True, text=True, check=True)
        blobs = [(l.split("\t", 1)[1], l.split()[2]) for l in ls.stdout.splitlines()]
        blobs = [(f, b) for f, b in blobs if keep(f)]
        cat = subprocess.run(["git", git, "cat-file", "--batch"], input="".join(b + "\n" for _, b in blobs).encode(),
                             capture_output=True, check=True).stdout
        out, at = {}, 0
        for f, b in blobs:
            head_end = cat.index(b"\n", at); size = int(cat[at:head_end].split()[2])
            out[f] = cat[head_end + 1: head_end + 1 + size]; at = head_end + 2 + size
        listing = "".join(f"{f}\t{sha256(out[f])}\n" for f in sorted(out)).encode()
        self.used.append({"repository": repo, "commit": commit, "path": path, "sha256": sha256(listing),
                          "git_tree": tree.stdout.strip(), "files": len(out),
                          "sha256_of": "sorted lines 'path<TAB>sha256(file)' of the files read"})
        return out

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


class _PlainUnpickler(pickle.Unpickler):
    "Unpickles plain data only (dicts, lists, strings, numbers): any class or function reference is refused."
    def find_class(self, module, name):
        raise pickle.UnpicklingError(f"refused: the pickle names {module}.{name}, not plain data")


def summeval_rows(src: Sources) -> list[dict]:
    """SummEval (Fabbri et al. 2021) as BARTScore ships it: per CNN/DM article its 11 reference summaries (the original
    highlights and 10 crowd-written ones), the 16 systems' summaries and the mean of the 3 expert ratings per aspect.
    The rows are mteb's summeval rows; BARTScore's texts are tokenised (`team 's`, ` ,`), where mteb's are not."""
    repo, commit, base = BARTSCORE
    data = _PlainUnpickler(io.BytesIO(src(repo, commit, f"{base}/data.pkl"))).load()
    rows = []
    for doc_id, d in data.items():
        systems = sorted(d["sys_summs"], key=lambda m: int(m.lstrip("M")))      # M0, M1, ... M23
        row = {"id": doc_id, "text": d["src"], "human_summaries": list(d["ref_summs"]),
               "machine_summaries": [d["sys_summs"][m]["sys_summ"] for m in systems]}
        for aspect in ("relevance", "coherence", "consistency", "fluency"):
            row[aspect] = [d["sys_summs"][m]["scores"][aspect] for m in systems]
        rows.append(row)
    assert len(rows) == 100 and all(len(r["human_summaries"]) == 11 and len(r["machine_summaries"]) == 16 for r in rows)
    return rows


ARGUMENT_FILE = re.compile(r"/(pro|con)/(pro|con)(\d+)([ab])-(point|counter)\.txt$")
# BEIR (whose ArguAna mteb ships) kept the first copy of a test point that appears in two themes, reading the themes
# in this order: the order of the test documents in BEIR's corpus.jsonl (checked at each theme's first document in a
# public copy of it, ThalesGroup/t-keir datasets/arguana/corpus.jsonl). mteb's descriptive statistics agree: no other
# choice of copies gives their character total.
ARGUANA_THEMES = ["environment", "health", "sport", "free-speech-debate", "economy", "international", "philosophy", "law",
                  "education", "politics", "culture", "digital-freedoms", "religion", "science", "society"]


def arguana_rows(src: Sources) -> dict[str, list[dict]]:
    """ArguAna (Wachsmuth et al. 2018) as BEIR built it and mteb ships it, from the ArguAna Counterargs Corpus.

    Every point and counter of the corpus's three splits is a document `SPLIT-THEME-INITIALS-{pro|con}NN{a|b}`
    (INITIALS: the first letter of each word of the debate's folder name), its text the file's text with URLs removed
    and line breaks as spaces; test documents carry the debate's folder name as title. The queries are the 1,406 test
    points, each relevant to its own counter (`...a` -> `...b`; five points have no counter). The corpus keeps every
    test counter, one copy of each test point (the same debate sits in two themes: ARGUANA_THEMES decides which copy),
    and of training and validation only texts no test document has, one document per text. The counts, character
    totals, extremes and distinct texts match mteb's descriptive statistics for ArguAna exactly."""
    repo, commit, base = ARGUANA
    files = src.folder(repo, commit, base, lambda f: ARGUMENT_FILE.search(f) is not None)
    docs = {}
    for f, b in files.items():
        split, theme, debate = f[len(base) + 1:].split("/")[:3]
        m = ARGUMENT_FILE.search(f)
        initials = "".join(w[0] for w in debate.split("-") if w)
        doc_id = f"{split}-{theme}-{initials}-{m.group(2)}{m.group(3)}{m.group(4)}"
        text = re.sub(r"https?://\S+", "", b.decode("utf-8")).replace("\n", " ").strip()
        docs[doc_id] = {"id": doc_id, "title": debate.replace("-", " ") if split == "test" else "", "text": text,
                        "split": split, "theme": theme}
    test = [d for d in docs.values() if d["split"] == "test"]
    points = sorted((d for d in test if d["id"].endswith("a")),
                    key=lambda d: (ARGUANA_THEMES.index(d["theme"]), d["id"]))
    corpus, seen = [d for d in test if d["id"].endswith("b")], set()
    for d in points:
        if d["text"] not in seen: seen.add(d["text"]); corpus.append(d)
    seen = {d["text"] for d in test}
    for d in sorted((d for d in docs.values() if d["split"] != "test"), key=lambda d: d["id"]):
        if d["text"] not in seen: seen.add(d["text"]); corpus.append(d)
    corpus.sort(key=lambda d: d["id"])
    queries = sorted(({"id": d["id"], "text": d["text"]} for d in test if d["id"].endswith("a")), key=lambda q: q["id"])
    qrels = [{"query-id": q["id"], "corpus-id": q["id"][:-1] + "b", "score": 1} for q in queries]
    return {"corpus": [{k: d[k] for k in ("id", "title", "text")} for d in corpus], "queries": queries, "qrels": qrels}


def twitter_url_rows(src: Sources) -> list[dict]:
    """The Twitter URL paraphrase corpus (Lan et al. 2017) as castorini/data ships it (prepared by one of its authors):
    the 42,200 training and 9,324 test pairs, lower-cased and tokenised, label 1 where at least 4 of 6 annotators saw a
    paraphrase. mteb's TwitterURLCorpus pools both splits as its test set but has 51,534 pairs (10 more) in the
    original casing, so this copy is not comparable to published scores."""
    repo, commit, base = CASTORINI
    rows = []
    for split in ("train", "test"):
        a, b, sim = (src(repo, commit, f"{base}/{split}/{f}").decode("utf-8").split("\n")[:-1]
                     for f in ("a.toks", "b.toks", "sim.txt"))
        assert len(a) == len(b) == len(sim), (split, len(a), len(b), len(sim))
        rows += [{"sent1": x, "sent2": y, "labels": int(z)} for x, y, z in zip(a, b, sim)]
    return rows


def build(root: Path, out: Path) -> dict:
    src = Sources(root)
    tasks = {}
    def add(task, splits: dict, license: str, note: str = "", comparable: bool = True, layout: dict | None = None):
        files = {s: {"file": f"{task}/{s}.jsonl.gz", **write_jsonl_gz(rows, out / task / f"{s}.jsonl.gz")}
                 for s, rows in splits.items()}
        tasks[task] = {"files": files, **(layout or {}), "sources": src.take(), "license": license,
                       "comparable": comparable, "note": note}
    for t in STS_SUBSETS: add(t, {"test": sts_rows(src, t)}, STS_LICENSES[t])
    add("BIOSSES", {"test": biosses_rows(src)}, "GPL-3.0 (BIOSSES, Sogancioglu et al. 2017)",
        "scores are the mean of the five annotators")
    add("Banking77Classification", banking_rows(src), "CC BY 4.0 (PolyAI task-specific-datasets)",
        "train is the pool mteb draws its few-shot classifier training sets from")
    add("ArguAna", arguana_rows(src),
        "CC BY-SA 4.0 (as BEIR and mteb distribute ArguAna; the ArguAna Counterargs Corpus, Wachsmuth et al. 2018, "
        "arguments from idebate.org)",
        "corpus, queries and qrels of the test split, rebuilt from the original corpus as BEIR built it",
        layout={"layout": "retrieval", "split": "test"})
    add("TwitterURLCorpus", {"test": twitter_url_rows(src)},
        "not specified (as mteb); published by castorini/data, whose data was prepared by one of the corpus's authors",
        "51,524 of mteb's 51,534 pairs, lower-cased and tokenised: not mteb's rows, so not comparable to published "
        "scores (all-MiniLM-L6-v2, an uncased model, scores 84.699 here against its published 84.702)",
        comparable=False)
    add("SummEvalSummarization.v2", {"test": summeval_rows(src)},
        "MIT (SummEval annotations, Yale-LILY/SummEval, as mteb's summeval); BARTScore's conversion is Apache-2.0; "
        "the articles are CNN/DailyMail test stories",
        "mteb's rows (100 articles, 11 references and 16 system summaries each, the same mean expert relevance) in "
        "BARTScore's tokenised, re-cased text, where mteb's references are detokenised: all-MiniLM-L6-v2 scores 25.767 "
        "here against its published 25.958, so not comparable to published scores",
        comparable=False)
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
