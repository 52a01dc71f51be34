#!/usr/bin/env python3
"""Queries as citizens type them, on the second city's FAQ: an outside tester's probe.

Usage::

    .venv/bin/python eval/typed_probe.py [--out DIR] [--no-ingest]

The query sets in ``eval/typed-probe/`` were written and judged by an outside tester for the
second city's FAQ (``eval/datasets/asagiri/corpus.jsonl``) before any search was run, without
reading kb's evaluation sets: ``queries_src.txt`` (80 questions, each as written, in hiragana,
half converted, with one typo, in half-width katakana, in English and in Vietnamese where
written), ``romaji.txt`` (12 of them typed with the IME off) and ``offtopic.txt`` (30
questions the FAQ should refuse).

The script ingests the corpus into ``DIR/data`` (default ``data/typed-probe``; the base model,
``KB_ADAPT=false``), starts ``kb serve`` on port 18250 with the public rate limits lifted,
sends every variant to the staff search (``/api/v1/search``, FAQ pane, k = 10) and to the
widget's route (``/public/v1/faq/search``), and writes ``queries.jsonl``, ``results.jsonl``,
``summary.json`` and ``summary.md`` (nDCG@10, Recall@10, hit@1, the widget's refusals per
variant, the worst drops) into ``DIR``. Only the standard library is used; kb is reached
through its CLI and HTTP API.
"""

import json
import math
import os
import signal
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(REPO, "eval", "typed-probe")
HERE = (
    os.path.abspath(sys.argv[sys.argv.index("--out") + 1])
    if "--out" in sys.argv
    else os.path.join(REPO, "data", "typed-probe")
)
KB = os.path.join(REPO, ".venv", "bin", "kb")
PORT = 18250
BASE = f"http://127.0.0.1:{PORT}"
ENV = dict(
    os.environ,
    KB_DATA_DIR=f"{HERE}/data",
    KB_MODEL_CACHE_DIR=os.environ.get("KB_MODEL_CACHE_DIR", os.path.join(REPO, "data", "models")),
    KB_ADAPT="false",
    KB_PUBLIC_RATE_PER_MINUTE="100000",
    KB_PUBLIC_RATE_BURST="100000",
    KB_PUBLIC_SEARCH_BUDGET_PER_MINUTE="100000",
    KB_REJECT_DELAY="0",
)
VARIANTS = ["base", "hira", "mixed", "typo", "hw", "en", "vi"]
# diagnostic variant (not hand-written): NFKC of a hand-written all-half-width-katakana query,
# i.e. the same reading in full-width katakana; sent only for queries whose hw variant is all kana.
DIAG = ["hw_nfkc", "romaji"]  # romaji: hand-written, 12 queries, from romaji.txt
# hand-assigned kind of each typo variant (see queries_src.txt):
#   sokuon = small っ dropped or typed as つ; long = long vowel dropped/added or う→お, ー dropped;
#   dakuten = (han)dakuten lost or added; homophone = wrong kanji from the IME (same reading);
#   key = adjacent-key slip on flick or romaji input (た→な, る→う, す→し, ら→や, を→お ...)
TYPO_KIND = {
    "q01": "long",
    "q02": "long",
    "q03": "sokuon",
    "q04": "long",
    "q05": "long",
    "q06": "long",
    "q07": "key",
    "q08": "long",
    "q09": "long",
    "q10": "long",
    "q11": "sokuon",
    "q12": "key",
    "q13": "dakuten",
    "q14": "dakuten",
    "q15": "sokuon",
    "q16": "long",
    "q17": "key",
    "q18": "homophone",
    "q19": "dakuten",
    "q20": "homophone",
    "q21": "sokuon",
    "q22": "dakuten",
    "q23": "long",
    "q24": "sokuon",
    "q25": "homophone",
    "q26": "long",
    "q27": "key",
    "q28": "sokuon",
    "q29": "homophone",
    "q30": "key",
    "q31": "key",
    "q32": "long",
    "q33": "homophone",
    "q34": "long",
    "q35": "dakuten",
    "q36": "homophone",
    "q37": "sokuon",
    "q38": "homophone",
    "q39": "homophone",
    "q40": "sokuon",
    "q41": "dakuten",
    "q42": "key",
    "q43": "homophone",
    "q44": "homophone",
    "q45": "homophone",
    "q46": "homophone",
    "q47": "long",
    "q48": "long",
    "q49": "sokuon",
    "q50": "homophone",
    "q51": "key",
    "q52": "key",
    "q53": "homophone",
    "q54": "sokuon",
    "q55": "long",
    "q56": "long",
    "q57": "long",
    "q58": "dakuten",
    "q59": "homophone",
    "q60": "homophone",
    "q61": "homophone",
    "q62": "long",
    "q63": "key",
    "q64": "long",
    "q65": "long",
    "q66": "long",
    "q67": "key",
    "q68": "key",
    "q69": "key",
    "q70": "key",
    "q71": "dakuten",
    "q72": "long",
    "q73": "homophone",
    "q74": "dakuten",
    "q75": "long",
    "q76": "key",
    "q77": "long",
    "q78": "dakuten",
    "q79": "long",
    "q80": "dakuten",
}


def hw_kind(text):
    import unicodedata

    n = unicodedata.normalize("NFKC", text)
    if any("\u4e00" <= c <= "\u9fff" or "\u3041" <= c <= "\u3096" for c in n):
        return "hw_part"  # only katakana words / digits / punctuation switched width
    return "hw_all"  # the whole query typed in half-width katakana


K = 10


ROMAJI = {}


def load_queries():
    for line in Path(SRC, "romaji.txt").read_text(encoding="utf-8").splitlines(keepends=True):
        if line.strip() and not line.startswith("#"):
            a, b = line.rstrip("\n").split("|")
            ROMAJI[a] = b
    out = []
    for line in Path(SRC, "queries_src.txt").read_text(encoding="utf-8").splitlines(keepends=True):
        line = line.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        f = line.split("|")
        assert len(f) == 9, (len(f), line)
        rel = {}
        for r in f[1].split(","):
            i, g = r.split(":")
            rel[i] = int(g)
        q = {"qid": f[0], "relevance": rel}
        for name, text in zip(VARIANTS, f[2:], strict=False):
            if text.strip():
                q[name] = text
        q["typo_kind"] = TYPO_KIND[f[0]]
        q["hw_kind"] = hw_kind(q["hw"])
        if f[0] in ROMAJI:
            q["romaji"] = ROMAJI[f[0]]
        if q["hw_kind"] == "hw_all":
            import unicodedata

            q["hw_nfkc"] = unicodedata.normalize("NFKC", q["hw"])
        out.append(q)
    return out


def load_offtopic():
    out = []
    for line in Path(SRC, "offtopic.txt").read_text(encoding="utf-8").splitlines(keepends=True):
        line = line.rstrip("\n")
        if line and not line.startswith("#"):
            c, t = line.split("|", 1)
            out.append({"category": c, "q": t})
    return out


def ingest():
    with open(f"{HERE}/faq.jsonl", "w", encoding="utf-8") as o:
        corpus = Path(REPO, "eval", "datasets", "asagiri", "corpus.jsonl")
        for row in corpus.read_text(encoding="utf-8").splitlines():
            d = json.loads(row)
            o.write(
                json.dumps(
                    {
                        "id": d["_id"],
                        "question": d["title"],
                        "answer": d["text"],
                        "department": d["department"],
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
    subprocess.run([KB, "ingest", f"{HERE}/faq.jsonl"], env=ENV, check=True)


def get(path, params, key=None, tries=5):
    url = BASE + path + "?" + urllib.parse.urlencode(params, doseq=True)
    req = urllib.request.Request(url)
    if key:
        req.add_header("Authorization", "Bearer " + key)
    for t in range(tries):
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            if e.code in (429, 503) and t < tries - 1:
                time.sleep(1 + t)
                continue
            return e.code, {"error": e.read().decode("utf-8", "replace")[:300]}


def ndcg(ranked, rel, k=K):
    dcg = sum(rel.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranked[:k]))
    ideal = sorted(rel.values(), reverse=True)
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal[:k]))
    return dcg / idcg if idcg else 0.0


def recall(ranked, rel, k=K):
    r = [d for d, g in rel.items() if g > 0]
    return sum(1 for d in r if d in ranked[:k]) / len(r)


def hit1(ranked, rel):
    return 1.0 if ranked and rel.get(ranked[0], 0) > 0 else 0.0


def server_up():
    try:
        with urllib.request.urlopen(BASE + "/readyz", timeout=3) as r:
            return r.status == 200
    except Exception:
        return False


def main():
    os.makedirs(HERE, exist_ok=True)
    os.chdir(HERE)
    if "--no-ingest" not in sys.argv:
        ingest()
    if not os.path.exists(f"{HERE}/staff.key"):
        out = subprocess.run(
            [KB, "keys", "create", "--role", "staff", "--name", "probe-run"],
            env=ENV,
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        key = [w for w in out.split() if w.startswith("kb_")][-1]
        Path(HERE, "staff.key").write_text(key + "\n")
    key = Path(HERE, "staff.key").read_text().strip()
    proc = None
    if not server_up():
        proc = subprocess.Popen(
            [KB, "serve", "--port", str(PORT)],
            env=ENV,
            stdout=open(f"{HERE}/server.log", "a"),  # noqa: SIM115 - the server outlives this block
            stderr=subprocess.STDOUT,
        )
        for _ in range(180):
            if server_up():
                break
            time.sleep(1)
        else:
            proc.terminate()
            sys.exit("server did not become ready")
    try:
        queries = load_queries()
        with open(f"{HERE}/queries.jsonl", "w", encoding="utf-8") as o:
            for q in queries:
                o.write(json.dumps(q, ensure_ascii=False) + "\n")
        results = []
        for q in queries:
            for v in VARIANTS + DIAG:
                if v not in q:
                    continue
                text = q[v]
                st, js = get("/api/v1/search", {"q": text, "k": K, "kind": "faq"}, key=key)
                staff = [f["id"] for f in js.get("faqs", [])] if st == 200 else []
                sp, jp = get("/public/v1/faq/search", {"q": text, "k": K})
                pub = [f["id"] for f in jp.get("faqs", [])] if sp == 200 else []
                results.append(
                    {
                        "qid": q["qid"],
                        "variant": v,
                        "typo_kind": q["typo_kind"],
                        "hw_kind": q["hw_kind"],
                        "q": text,
                        "relevance": q["relevance"],
                        "staff_status": st,
                        "staff_top": staff,
                        "staff_ndcg": ndcg(staff, q["relevance"]),
                        "staff_recall": recall(staff, q["relevance"]),
                        "staff_hit1": hit1(staff, q["relevance"]),
                        "public_status": sp,
                        "public_answered": bool(jp.get("answered")) if sp == 200 else False,
                        "public_confidence": jp.get("confidence"),
                        "public_top": pub,
                        "public_ndcg": ndcg(pub, q["relevance"]),
                        "public_hit1": hit1(pub, q["relevance"]),
                    }
                )
        off = []
        for o_ in load_offtopic():
            sp, jp = get("/public/v1/faq/search", {"q": o_["q"], "k": K})
            off.append(
                {
                    **o_,
                    "public_status": sp,
                    "answered": bool(jp.get("answered")) if sp == 200 else None,
                    "confidence": jp.get("confidence"),
                    "top": [(f["id"], f["question"]) for f in jp.get("faqs", [])][:3],
                }
            )
        with open(f"{HERE}/results.jsonl", "w", encoding="utf-8") as o:
            for r in results:
                o.write(json.dumps(r, ensure_ascii=False) + "\n")
            for r in off:
                o.write(json.dumps({"offtopic": True, **r}, ensure_ascii=False) + "\n")
        summarize(results, off)
    finally:
        if proc:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()


def mean(xs):
    return sum(xs) / len(xs) if xs else float("nan")


def summarize(results, off):
    summ = {"variants": {}, "offtopic": {}}
    base = {r["qid"]: r for r in results if r["variant"] == "base"}
    groups = [(v, lambda r, v=v: r["variant"] == v) for v in VARIANTS + DIAG]
    groups += [
        (f"hw/{k}", lambda r, k=k: r["variant"] == "hw" and r["hw_kind"] == k)
        for k in ("hw_part", "hw_all")
    ]
    groups += [
        ("hira/(hw_all queries)", lambda r: r["variant"] == "hira" and r["hw_kind"] == "hw_all")
    ]
    groups += [
        (f"typo/{k}", lambda r, k=k: r["variant"] == "typo" and r["typo_kind"] == k)
        for k in ("sokuon", "long", "dakuten", "homophone", "key")
    ]
    for v, pred in groups:
        rs = [r for r in results if pred(r)]
        if not rs:
            continue
        qids = {r["qid"] for r in rs}
        b = [base[q] for q in qids]
        d = {
            "n": len(rs),
            "staff_ndcg10": mean([r["staff_ndcg"] for r in rs]),
            "staff_recall10": mean([r["staff_recall"] for r in rs]),
            "staff_hit1": mean([r["staff_hit1"] for r in rs]),
            "base_ndcg10_same_queries": mean([r["staff_ndcg"] for r in b]),
            "public_ndcg10": mean([r["public_ndcg"] for r in rs]),
            "public_hit1": mean([r["public_hit1"] for r in rs]),
            "public_refused": mean([0.0 if r["public_answered"] else 1.0 for r in rs]),
            "public_answered_wrong_top1": mean(
                [1.0 if r["public_answered"] and not r["public_hit1"] else 0.0 for r in rs]
            ),
            "public_refused_though_staff_top1_right": mean(
                [1.0 if (not r["public_answered"]) and r["staff_hit1"] else 0.0 for r in rs]
            ),
            "public_low_confidence": mean(
                [1.0 if r["public_confidence"] == "low" else 0.0 for r in rs]
            ),
            "public_http_errors": sum(1 for r in rs if r["public_status"] != 200),
            "staff_http_errors": sum(1 for r in rs if r["staff_status"] != 200),
        }
        summ["variants"][v] = d
    cats = {}
    for o in off:
        cats.setdefault(o["category"], []).append(o)
    summ["offtopic"] = {
        "n": len(off),
        "refused": mean([0.0 if o["answered"] else 1.0 for o in off]),
        "by_category": {
            c: {"n": len(lst), "refused": sum(1 for o in lst if not o["answered"])}
            for c, lst in cats.items()
        },
        "answered": [
            {"q": o["q"], "confidence": o["confidence"], "top": o["top"][:1]}
            for o in off
            if o["answered"]
        ],
    }
    Path(HERE, "summary.json").write_text(json.dumps(summ, ensure_ascii=False, indent=1))
    L = [
        "| variant | n | staff nDCG@10 | (base, same queries) | staff Recall@10 | staff hit@1 | public nDCG@10 | public hit@1 | public refused | public answered, wrong top-1 | public refused although staff top-1 right | public 'low' |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for v, d in summ["variants"].items():
        L.append(
            f"| {v} | {d['n']} | {d['staff_ndcg10']:.3f} | {d['base_ndcg10_same_queries']:.3f} | {d['staff_recall10']:.3f} | {d['staff_hit1']:.3f} | "
            f"{d['public_ndcg10']:.3f} | {d['public_hit1']:.3f} | {d['public_refused']:.1%} | {d['public_answered_wrong_top1']:.1%} | {d['public_refused_though_staff_top1_right']:.1%} | {d['public_low_confidence']:.1%} |"
        )
    o = summ["offtopic"]
    L.append("")
    L.append(
        f"Off-topic: {o['n']} questions, refused {o['refused']:.1%}; by category: "
        + ", ".join(f"{c} {x['refused']}/{x['n']}" for c, x in o["by_category"].items())
    )
    for a in o["answered"]:
        L.append(f"- answered off-topic: 「{a['q']}」 ({a['confidence']}) → {a['top']}")
    # worst drops vs base (staff nDCG)
    L.append("")
    L.append("Worst staff nDCG@10 drops vs the base query:")
    drops = []
    for r in results:
        if r["variant"] == "base":
            continue
        b = base[r["qid"]]
        drops.append((b["staff_ndcg"] - r["staff_ndcg"], r, b))
    drops.sort(key=lambda x: (-x[0], x[1]["qid"]))
    for _dd, r, b in drops[:40]:
        L.append(
            f"- {r['qid']} {r['variant']}: 「{r['q']}」 nDCG {b['staff_ndcg']:.2f}→{r['staff_ndcg']:.2f}, rel {r['relevance']}, staff top3 {r['staff_top'][:3]}, public answered={r['public_answered']} top1={r['public_top'][:1]}"
        )
    Path(HERE, "summary.md").write_text("\n".join(L) + "\n")
    print("\n".join(L))


if __name__ == "__main__":
    main()
