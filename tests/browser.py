"Open pages in headless Chromium (Debian `chromium`): whether each loads, its images decode, its local links resolve."
import html, json, os, re, shutil, subprocess
from pathlib import Path
import pytest


def _chromium() -> str:
    "The chromium binary; in CI (CI set) its absence fails the test, elsewhere it skips with the reason."
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe: return exe
    msg = "chromium is not installed (Debian: apt-get install chromium); .ci/run installs it"
    if os.environ.get("CI", "").lower() not in ("", "0", "false"): pytest.fail(msg)
    pytest.skip(msg)


_HARNESS = """<!doctype html><html><body>{frames}<pre id="out"></pre><script>
window.addEventListener("load", () => {{
  const res = [...document.querySelectorAll("iframe")].map(f => {{
    const d = f.contentDocument;
    if (!d || !d.body || !d.body.childElementCount) return {{page: f.src, loaded: false}};
    return {{page: f.src, loaded: true,
             images: [...d.images].map(i => [i.getAttribute("src").slice(0, 80), i.complete && i.naturalWidth > 0]),
             links: [...d.querySelectorAll("a[href]")].map(a => a.href)}};
  }});
  document.getElementById("out").textContent = "RES" + "ULT" + JSON.stringify(res) + "END" + "RESULT";
}});
</script></body></html>"""


def open_in_chromium(pages, tmp_path):
    "Load pages in headless chromium: for each, whether it loaded, its images (loaded or not) and its links."
    harness = tmp_path / f"harness-{len(list(tmp_path.glob('harness-*')))}.html"
    harness.write_text(_HARNESS.format(frames="".join(f'<iframe src="{p.as_uri()}"></iframe>' for p in pages)))
    r = subprocess.run([_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--allow-file-access-from-files",
                        "--host-resolver-rules=MAP * ~NOTFOUND", f"--user-data-dir={tmp_path / 'chromium-profile'}",
                        "--dump-dom", harness.as_uri()], capture_output=True, text=True, timeout=180)
    found = re.search(r"RESULT(.*?)ENDRESULT", html.unescape(r.stdout), re.S)
    assert found, f"chromium gave no result (rc {r.returncode}): {r.stderr[-2000:]}"
    return json.loads(found.group(1))


def check_pages(start, tmp_path):
    "Open `start` and every local page it links to, page by linked page; return (broken images and links, pages opened)."
    from urllib.parse import urlparse, unquote
    broken, opened, todo = [], set(), [Path(start).resolve()]
    while todo:
        opened |= set(todo)
        found = set()
        for page in open_in_chromium(todo, tmp_path):
            if not page["loaded"]: broken.append(f"{page['page']}: did not load"); continue
            broken += [f"{page['page']}: broken image {src}" for src, ok in page["images"] if not ok]
            for link in page["links"]:
                u = urlparse(link)
                if u.scheme != "file": continue                    # remote links are not followed (offline)
                target = Path(unquote(u.path))
                if not target.exists(): broken.append(f"{page['page']}: broken link {link}")
                elif target.suffix == ".html" and target not in opened: found.add(target)
        todo = sorted(found)
    return broken, opened
