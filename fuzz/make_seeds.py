#!/usr/bin/env python3
"""fuzz/make_seeds.py — (re)writes the seed corpora under fuzz/corpus/<target>/.

Seeds are small valid (and a few near-valid) inputs from which libFuzzer mutates: the profile
examples of docs/profile-examples/, statements written here for the xAPI features the examples do
not use, and multipart bodies and JWSs built around them. Reproducers of bugs found by fuzzing
are kept in the same directories under names starting with "regress-" or "known-"; this script
never deletes files, it only (over)writes the ones it generates.

Usage: python3 fuzz/make_seeds.py        (standard library only; the openssl command line
                                           tool, when present, adds a really signed JWS seed)
"""
import base64
import glob
import hashlib
import json
import os
import shutil
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CORPUS = os.path.join(HERE, "corpus")
EXAMPLES = sorted(glob.glob(os.path.join(ROOT, "docs", "profile-examples", "*.json")))


def put(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def compact(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode("ascii")


def sha256(b):
    return hashlib.sha256(b).hexdigest()


AGENT = {"objectType": "Agent", "name": "Li Lei", "mbox": "mailto:li.lei@example.edu.cn"}
VERB = {"id": "http://adlnet.gov/expapi/verbs/answered", "display": {"en-US": "answered", "zh-CN": "回答"}}

STATEMENTS = {
    "minimal": {
        "actor": {"mbox": "mailto:a@example.org"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
        "object": {"id": "http://example.org/activity/1"},
    },
    "full-103": {
        "id": "D1F5C9A2-7B3E-4C1D-9E2F-3A4B5C6D7E8F",
        "actor": AGENT,
        "verb": VERB,
        "object": {
            "objectType": "Activity",
            "id": "http://example.org/q/1",
            "definition": {
                "name": {"en-US": "Question 1", "zh-CN": "第一题", "en-GB": "Question one"},
                "description": {"en": "Pick one"},
                "type": "http://adlnet.gov/expapi/activities/cmi.interaction",
                "interactionType": "choice",
                "correctResponsesPattern": ["a[,]b"],
                "choices": [{"id": "a", "description": {"en-US": "A"}}, {"id": "b", "description": {"en-US": "B"}}],
                "extensions": {"http://example.org/ext/x": {"k": [1, 2.5, None, True]}},
            },
        },
        "result": {
            "score": {"scaled": 0.5, "raw": 5, "min": 0, "max": 10},
            "success": True,
            "completion": False,
            "response": "a[,]b",
            "duration": "PT1M30.125S",
            "extensions": {"http://example.org/ext/r": 1},
        },
        "context": {
            "registration": "6b1f3c52-8a0e-4d2b-9f47-2c5e8d1a7b30",
            "instructor": {"objectType": "Agent", "account": {"homePage": "https://sso.example.cn", "name": "t01"}},
            "team": {"objectType": "Group", "name": "Team A", "member": [{"mbox_sha1sum": "ebd31e95054c018b10727ccffd2ef2ec3a016ee9"}]},
            "contextActivities": {
                "parent": {"id": "http://example.org/quiz/1"},
                "grouping": [{"id": "http://example.org/course/1"}],
                "category": [{"id": "http://example.org/profile"}],
                "other": [{"objectType": "Activity", "id": "http://example.org/other"}],
            },
            "revision": "r1",
            "platform": "Example MOOC",
            "language": "zh-Hans-CN",
            "statement": {"objectType": "StatementRef", "id": "8f87ccde-bb56-4c2e-ab83-44982ef22df0"},
            "extensions": {"http://example.org/ext/c": "x"},
        },
        "timestamp": "2024-03-01T16:30:00.123+08:00",
        "version": "1.0.3",
    },
    "v2-context-agents": {
        "actor": {"objectType": "Agent", "openid": "https://openid.example.org/u/7"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/attended"},
        "object": {"id": "http://example.org/meeting/9", "definition": {"type": "http://adlnet.gov/expapi/activities/meeting"}},
        "context": {
            "contextAgents": [{"objectType": "contextAgent", "agent": {"mbox": "mailto:b@example.org"},
                               "relevantTypes": ["http://example.org/types/host"]}],
            "contextGroups": [{"objectType": "contextGroup", "group": {"objectType": "Group", "member": [{"mbox": "mailto:c@example.org"}]},
                               "relevantTypes": ["http://example.org/types/audience"]}],
        },
        "timestamp": "2024-03-01 08:30:00.5z",
        "version": "2.0.0",
    },
    "substatement": {
        "actor": {"objectType": "Group", "name": "anon", "member": [{"mbox": "mailto:x@Example.ORG"}, {"openid": "http://example.org/o/y"}]},
        "verb": {"id": "http://example.org/verbs/planned", "display": {"en-US": "planned"}},
        "object": {
            "objectType": "SubStatement",
            "actor": {"account": {"homePage": "http://example.org", "name": "z"}},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
            "object": {"id": "http://example.org/task/3", "definition": {"interactionType": "matching",
                        "source": [{"id": "s1"}], "target": [{"id": "t1"}], "correctResponsesPattern": ["s1[.]t1"]}},
            "result": {"duration": "P1DT2H"},
            "context": {"contextActivities": {"parent": {"id": "http://example.org/plan"}}},
            "timestamp": "2024-02-29T23:59:60-05:30",
        },
    },
    "voiding": {
        "actor": {"mbox": "mailto:admin@example.org"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/voided", "display": {"en-US": "voided"}},
        "object": {"objectType": "StatementRef", "id": "e05aa883-acaf-40ad-bf54-02c8ce485fb0"},
    },
    "agent-object": {
        "actor": {"mbox": "mailto:a@example.org"},
        "verb": {"id": "http://example.org/verbs/mentored"},
        "object": {"objectType": "Agent", "mbox": "mailto:b@example.org"},
        "authority": {"objectType": "Group", "member": [{"account": {"homePage": "http://lrs.example.org", "name": "app"}},
                                                        {"mbox": "mailto:user@example.org"}]},
        "stored": "2024-03-01T08:30:00.000Z",
    },
    "attachments": {
        "actor": {"mbox": "mailto:a@example.org"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/attempted"},
        "object": {"id": "http://example.org/essay"},
        "attachments": [{
            "usageType": "http://example.org/attachment-usage/essay",
            "display": {"en-US": "essay"},
            "description": {"EN-us": "the essay"},
            "contentType": "text/plain; charset=utf-8",
            "length": 11,
            "sha2": sha256(b"hello world"),
            "fileUrl": "http://example.org/essay.txt",
        }],
    },
    "performance-likert": {
        "actor": {"mbox": "mailto:a@example.org"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/responded"},
        "object": {"id": "http://example.org/survey/1", "definition": {"interactionType": "likert",
                    "scale": [{"id": "1", "description": {"en-US": "bad"}}, {"id": "2"}]}},
        "context": {"contextActivities": {"category": {"id": "http://example.org/cat"}}, "language": "x-private"},
        "result": {"score": {"min": -1.5, "max": 1e2, "raw": 0.0}, "duration": "P2W"},
    },
}

def big_statement():
    """Past every inline buffer of statement.c (32 agents/activities, 2 KiB of agent keys, 24 object
    keys, 16 group members, 16 language map entries), with duplicates for the de-duplication."""
    def member(i):
        return {"mbox": "mailto:member.%03d.with-a-rather-long-local-part@Faculty-%d.Example.EDU.cn" % (i % 15, i % 3)}
    langs = ["en-US", "en", "zh-CN", "zh-Hant-TW", "fr", "de-CH-1901", "ja", "ko", "es-419", "pt-BR", "ru",
             "ar", "hi", "it", "nl", "sv", "x-klingon", "i-klingon", "EN-gb", "sgn-BE-FR"]
    return {
        "actor": {"objectType": "Group", "name": "class", "member": [member(i) for i in range(20)]},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/shared", "display": {l: "shared " + l for l in langs}},
        "object": {"objectType": "SubStatement",
                   "actor": {"objectType": "Group", "member": [member(i) for i in range(18)]},
                   "verb": {"id": "http://example.org/verbs/met"},
                   "object": {"objectType": "Agent", "mbox": "mailto:member.001.with-a-rather-long-local-part@faculty-1.example.edu.cn"},
                   "context": {"contextActivities": {"parent": {"id": "http://example.org/a/0"}},
                               "instructor": {"objectType": "Group", "member": [member(i) for i in range(17)]}}},
        "context": {
            "instructor": {"objectType": "Group", "member": [member(i + 3) for i in range(17)]},
            "team": {"objectType": "Group", "mbox": "mailto:team@example.org", "member": [member(i) for i in range(5)]},
            "contextActivities": {"category": [{"id": "http://example.org/a/%d" % (i % 25)} for i in range(40)],
                                  "other": {"id": "http://example.org/a/7"}},
            "extensions": {"http://example.org/ext/k%02d" % i: i for i in range(30)},
        },
        "result": {"extensions": {"http://example.org/ext/r%02d" % i: [i, str(i)] for i in range(26)}},
        "attachments": [{"usageType": "http://example.org/usage/%d" % i, "display": {l: "file" for l in langs},
                         "description": {"zh-CN": "b", "en-US": "a", "EN-us": "c"},
                         "contentType": "application/pdf", "length": i, "sha2": sha256(b"%d" % i).upper(),
                         "fileUrl": "http://example.org/f/%d" % i} for i in range(3)],
    }


# Statements the validator must reject: near misses that steer mutation towards its checks.
INVALID = {
    "two-ifis": {"actor": {"mbox": "mailto:a@example.org", "openid": "http://example.org/a"},
                 "verb": {"id": "http://example.org/v"}, "object": {"id": "http://example.org/o"}},
    "bad-lang": {"actor": {"mbox": "mailto:a@example.org"}, "verb": {"id": "http://example.org/v", "display": {"en--US": "x"}},
                 "object": {"id": "http://example.org/o"}},
    "dup-choice": {"actor": {"mbox": "mailto:a@example.org"}, "verb": {"id": "http://example.org/v"},
                   "object": {"id": "http://example.org/o", "definition": {"interactionType": "choice", "choices": [{"id": "a"}, {"id": "a"}]}}},
    "unknown-key": {"actor": {"mbox": "mailto:a@example.org"}, "verb": {"id": "http://example.org/v"},
                    "object": {"id": "http://example.org/o"}, "contxt": {}},
}


def seeds_json():
    for i, text in enumerate([
        '{"a":[1,-0,2.5e3,-1E-7,0.0,9223372036854775807,-9223372036854775808],"b":{"c":null,"d":true,"e":false}}',
        '["\\u00e9\\ud83d\\ude00\\n\\t\\"\\\\\\/", "中文", "\\u2028", ""]',
        '[[[[[[[[[[[]]]]]]]]]], {}, [{}], {"":{"":[]}}]',
        ' \r\n\t"top-level string" ',
        '12345678901234567890',
        '1.7976931348623157e308',
        '{"k":1,"k2":{"k":2}}',
        '{"dup":1,"dup":2}',
        '[1,]',
    ]):
        put("json", "seed-%02d.json" % i, text)
    put("json", "regress-jansson-nul-after-number", b"3.5\x00")
    if EXAMPLES:
        put("json", "profile-" + os.path.basename(EXAMPLES[0]), open(EXAMPLES[0], "rb").read())


def seeds_statement():
    for path in EXAMPLES:
        put("statement", "profile-" + os.path.basename(path), open(path, "rb").read())
    for name, st in STATEMENTS.items():
        put("statement", name + ".json", compact(st))
    for name, st in INVALID.items():
        put("statement", "invalid-" + name + ".json", compact(st))
    # with an Accept-Language for the canonical format after a 0x01 byte
    put("statement", "full-103-lang", compact(STATEMENTS["full-103"]).encode() + b"\x01zh-CN;q=0.5, en-GB, *;q=0")
    put("statement", "array", compact([STATEMENTS["minimal"], STATEMENTS["voiding"]]))
    put("statement", "big.json", compact(big_statement()))
    # more than 512 interaction components: the validator's heap hash table, a late duplicate
    many = dict(STATEMENTS["minimal"])
    many["object"] = {"id": "http://example.org/q/many", "definition": {
        "interactionType": "sequencing", "choices": [{"id": "c%d" % i} for i in range(600)] + [{"id": "c7"}]}}
    put("statement", "many-choices.json", compact(many))
    # profile examples as 1.0.3 clients send them (no version, single contextActivities)
    for path in EXAMPLES[:3]:
        st = json.load(open(path, encoding="utf-8"))
        st.pop("version", None)
        cat = st.get("context", {}).get("contextActivities", {})
        for k, v in list(cat.items()):
            if isinstance(v, list) and len(v) == 1:
                cat[k] = v[0]
        put("statement", "profile103-" + os.path.basename(path), compact(st))


def multipart(ct_boundary, parts, crlf=True, preamble=b"", epilogue=b""):
    nl = b"\r\n" if crlf else b"\n"
    body = preamble
    for headers, content in parts:
        body += b"--" + ct_boundary + nl
        for h in headers:
            body += h + nl
        body += nl + content + nl
    body += b"--" + ct_boundary + b"--" + nl + epilogue
    return body


def jws_for(stmt, header=None, sig=b"sig"):
    header = header or {"alg": "RS256"}
    return (b64url(compact(header).encode()) + "." + b64url(compact(stmt).encode()) + "." + b64url(sig)).encode()


def signed_statement():
    """A statement with a signature attachment, its JWS, and the statement as sent."""
    base = dict(STATEMENTS["minimal"])
    jws = jws_for(base)
    st = dict(base)
    st["attachments"] = [{
        "usageType": "http://adlnet.gov/expapi/attachments/signature",
        "display": {"en-US": "signature"},
        "contentType": "application/octet-stream",
        "length": len(jws),
        "sha2": sha256(jws),
    }]
    return st, jws


def seeds_multipart():
    att = b"hello world"
    st = dict(STATEMENTS["attachments"])
    st["attachments"] = [dict(st["attachments"][0])]
    del st["attachments"][0]["fileUrl"]
    js = compact(st).encode()
    ct = b"multipart/mixed; boundary=abcABC0123456789"
    body = multipart(b"abcABC0123456789", [
        ([b"Content-Type: application/json"], js),
        ([b"Content-Type: text/plain", b"Content-Transfer-Encoding: binary",
          b"X-Experience-API-Hash: " + sha256(att).encode()], att),
    ], preamble=b"preamble\r\n", epilogue=b"epilogue")
    put("multipart", "one-attachment", ct + b"\n" + body)
    body = multipart(b"simple", [([b"content-type: application/json; charset=UTF-8"], js),
                                 ([b"x-experience-api-hash: " + sha256(att).upper().encode()], att)], crlf=False)
    put("multipart", "lf-lowercase", b'Multipart/Mixed; charset=x; boundary="simple"\n' + body)
    sst, jws = signed_statement()
    body = multipart(b"==sig==", [([b"Content-Type: application/json"], compact([sst]).encode()),
                                  ([b"Content-Type: application/octet-stream", b"Content-Transfer-Encoding: binary",
                                    b"X-Experience-API-Hash: " + sha256(jws).encode()], jws)])
    put("multipart", "signed", b'multipart/mixed;boundary="==sig=="\r\n' + body)
    put("multipart", "no-close", b"multipart/mixed; boundary=b\n--b\r\nContent-Type: application/json\r\n\r\n{}\r\n--b\r\n")
    put("multipart", "empty-parts", b"multipart/mixed; boundary=b\n--b\n\n--b\n--b--")
    # a boundary followed by a malformed parameter: rejected, with out already written (allowed)
    put("multipart", "regress-boundary-then-bad-param", b"multipart/mixed; boundary=abc: binary\n--abc:\n\n--abc:--")


def seeds_jws(tmp):
    st = STATEMENTS["full-103"]
    put("jws", "raw-unsigned", jws_for(st) + b"\x00" + compact(st).encode())
    put("jws", "sections-unsigned", compact({"alg": "RS512", "typ": "JWT"}).encode() + b"\x00" + compact(st).encode()
        + b"\x00sig\x00" + compact(st).encode())
    other = dict(st)
    other["result"] = dict(st["result"], duration="PT1M30.12999S")
    del other["id"]
    put("jws", "sections-duration", b'{"alg":"RS256"}\x00' + compact(other).encode() + b"\x00s\x00" + compact(st).encode())
    put("jws", "sections-crit", b'{"alg":"RS256","crit":["x"]}\x00{}\x00s\x00{}')
    sst, jws = signed_statement()
    put("jws", "raw-signed-statement", jws + b"\x00" + compact(sst).encode())
    # a really signed JWS with x5c, when the openssl tool is available; kept once made, as a
    # new key would change the file at every run
    if not shutil.which("openssl") or os.path.exists(os.path.join(CORPUS, "jws", "raw-x5c-rs256")):
        return
    key, cert = os.path.join(tmp, "k.pem"), os.path.join(tmp, "c.der")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-outform", "DER",
                    "-out", cert, "-subj", "/CN=moocguard fuzz seed", "-days", "1"], check=True, capture_output=True)
    der = open(cert, "rb").read()
    header = {"alg": "RS256", "x5c": [base64.b64encode(der).decode()]}
    signing_input = (b64url(compact(header).encode()) + "." + b64url(compact(st).encode())).encode()
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", key], input=signing_input, check=True,
                         capture_output=True).stdout
    put("jws", "raw-x5c-rs256", signing_input + b"." + b64url(sig).encode() + b"\x00" + compact(st).encode())


def seeds_agent_param():
    for i, a in enumerate([
        {"mbox": "mailto:Li.Lei@Example.EDU.cn"},
        {"objectType": "Agent", "name": "x", "mbox_sha1sum": "EBD31E95054C018B10727CCFFD2EF2EC3A016EE9"},
        {"openid": "https://openid.example.org/u/7#me"},
        {"account": {"homePage": "https://sso.example.cn/%E4%B8%AD", "name": "2023010123"}},
        {"objectType": "Group", "mbox": "mailto:team@example.org", "member": [{"mbox": "mailto:m@example.org"}]},
        {"objectType": "Group", "member": [{"mbox": "mailto:m@example.org"}]},
        {"mbox": "mailto:a@b@c"},
    ]):
        put("agent_param", "agent-%02d.json" % i, compact(a))


def seeds_time():
    for i, s in enumerate([
        "2024-03-01T08:30:00.000Z", "2024-03-01T16:30:00.123456789+08:00", "2024-02-29T23:59:60-05:30",
        "2024-03-01 08:30:00,5z", "2024-03-01t08:30Z", "0000-01-01T00:00:00+01:00", "9999-12-31T23:59:59.999999-14:00",
        "2024-12-31T24:00:00", "1969-12-31T23:59:59.999999-0000", "2024-03-01T08:30+08",
        "P1Y2M3DT4H5M6.5S", "PT0,25S", "P3W", "PT", "P1M1Y", "P0.5Y",
    ]):
        put("time", "t-%02d" % i, s)


def seeds_known():
    """Reproducers of the defects reported in fuzz/README.md ("Known defects"). They pass unless
    MG_FUZZ_STRICT=1 is set, which turns on the checks they break."""
    cn = "\u4e2d"  # one 3-byte UTF-8 character
    key = cn * 40
    put("json", "known-utf8-dup-key-error", '{"%s":1,"%s":2}' % (key, key))
    st = dict(STATEMENTS["minimal"])
    st["verb"] = {"id": "http://example.org/x" + cn * 80}
    st["context"] = {"contextActivities": {"category": [{"id": "https://moocguard.org/xapi/profile/1.0"}]}}
    put("statement", "known-utf8-profile-verb.json", compact(st))
    st = dict(STATEMENTS["minimal"], timestamp="2024-03-01T08:30:00.000Z")
    put("statement", "known-ts-equals-stored-103.json", compact(st))
    st = dict(STATEMENTS["minimal"], timestamp="2024-03-01T16:30:00.000+08:00")
    put("statement", "known-ts-equals-stored-v2.json", compact(st))
    put("jws", "known-utf8-alg", compact({"alg": cn * 15}).encode() + b"\x00{}\x00s\x00{}")


def main():
    os.makedirs(CORPUS, exist_ok=True)
    seeds_json()
    seeds_statement()
    seeds_multipart()
    with tempfile.TemporaryDirectory() as tmp:
        seeds_jws(tmp)
    seeds_agent_param()
    seeds_time()
    seeds_known()
    total = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(CORPUS) for f in fs)
    print("corpus: %d bytes under %s" % (total, CORPUS))


if __name__ == "__main__":
    main()
