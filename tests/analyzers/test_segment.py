from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import analyzers
from analyzers.segmentation import Segmenter

ROOT = Path(__file__).resolve().parents[2]


def test_import_has_no_side_effects():
    code = ("import sys; import analyzers; "
            "print(any(m.split('.')[0] in ('jieba', 'rjieba', 'numpy', 'snownlp') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT,
                         env={"PYTHONPATH": str(ROOT)}, check=True)
    assert out.stdout.strip() == "False"


def test_segment_search_contract():
    toks = analyzers.segment("#河南暴雨# 郑州地铁停运，@人民日报 [泪] 网传紧急扩散 http://t.cn/abc")
    assert "暴雨" in toks and "#河南暴雨#" in toks and "河南" in toks
    assert "@人民日报" in toks and "[泪]" in toks
    assert "网传" in toks and "紧急扩散" in toks
    assert not any("http" in t or "t.cn" in t for t in toks)
    assert "，" not in toks and " " not in toks
    # a query segments to the same token the post was indexed with
    assert analyzers.segment("暴雨") == ["暴雨"]


def test_stopwords_whitespace_and_case():
    toks = analyzers.segment("我们 的 ABC 和 iPhone")
    assert "的" not in toks and "我们" not in toks
    assert "abc" in toks and "iphone" in toks
    assert all(t.strip() == t and t for t in toks)


def test_shipped_dictionaries_keep_government_terms_whole():
    toks = analyzers.segment("市场监督管理局和国家卫健委回应，石家庄市政府发布情况通报")
    for w in ("市场监督管理局", "国家卫健委", "情况通报"):
        assert w in toks


def test_user_dict(tmp_path):
    d = tmp_path / "extra.txt"
    d.write_text("舆情值班台 1000 n\n奇怪新词\n", encoding="utf-8")
    seg = Segmenter(str(d))
    assert "舆情值班台" in seg.segment("欢迎使用舆情值班台")
    assert "奇怪新词" in seg.segment("这是奇怪新词吗")


def test_missing_user_dict_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="user dictionary"):
        Segmenter(str(tmp_path / "nope.txt"))


def test_entities_and_normalisation():
    p = Segmenter().parse("網傳 @某人 說 [哈哈] #話題# www.example.com/x ＡＢＣ１２３")
    assert p.mentions == ["@某人"]
    assert p.emoticons == ["[哈哈]"]
    assert p.hashtags == ["#话题#"]
    assert p.links == ["www.example.com/x"]
    assert "网传" in p.tokens and "abc123" in p.tokens


def test_entities_keep_their_place_among_the_words():
    p = Segmenter().parse("@甲 网传[泪]#暴雨 预警#今天@乙http://t.cn/a #  #[哈哈]")
    assert p.features == ["@甲", "网传", "[泪]", "#暴雨 预警#", "暴雨", "预警", "今天", "@乙", "[哈哈]"]
    assert p.links == ["http://t.cn/a"] and p.hashtags == ["#暴雨 预警#"]


def test_control_and_private_use_characters_are_spaces():
    seg = Segmenter()
    p = seg.parse("网传\x00暴雨\ue000@某人\ue001预警")  # the parser's own marks cannot be smuggled in
    assert p.features == ["网传", "暴雨", "@某人", "预警"]


def test_bad_text_never_raises():
    seg = Segmenter()
    assert seg.segment("") == []
    assert seg.segment(None) == []  # type: ignore[arg-type]
    assert seg.segment("\ud800abc暴雨") == ["\ufffdabc", "暴雨"] or "暴雨" in seg.segment("\ud800abc暴雨")
    assert len(seg.segment("暴雨" * 50_000)) == 50_000


def test_each_segmenter_owns_its_tokenizer(tmp_path):
    d = tmp_path / "extra.txt"
    d.write_text("值班台新词 1000 n\n", encoding="utf-8")
    a, b = Segmenter(str(d)), Segmenter()
    assert "值班台新词" in a.segment("值班台新词")
    assert "值班台新词" not in b.segment("值班台新词")


def test_rjieba_segments_like_jieba_with_the_same_dictionaries():
    pytest.importorskip("rjieba")
    import json

    from .conftest import SHARED

    texts = []
    p = SHARED / "sentiment_dev.jsonl"
    if p.is_file():
        with open(p, encoding="utf-8") as f:
            for i, line in enumerate(f):
                if i >= 1500:
                    break
                texts.append(json.loads(line)["text"])
    texts += ["郑州市应急管理局发布暴雨红色预警，网传紧急扩散消息不实", "国家卫健委：新冠肺炎疫情防控进入新阶段",
              "石家庄市政府召开新闻发布会，通报核酸检测结果"]
    rj, pj = Segmenter(backend="rjieba"), Segmenter(backend="jieba")
    same = sum(rj.segment(t) == pj.segment(t) for t in texts)
    assert same / len(texts) >= 0.99, f"only {same}/{len(texts)} texts segment identically"
