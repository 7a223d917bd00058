# usage: check.py SRC_DIR RESTORED_DIR
# Compares a restored copy of the backup dataset with its source at the same point:
#   app.db: PRAGMA integrity_check of the restored file, row count and a SHA-256 over every row of
#           `events` (ordered by id) equal to the source's;
#   files/: the same relative paths with the same bytes (a SHA-256 over sorted path + content).
# Prints one line of JSON; exit status 0 when everything matches, 1 otherwise.
import hashlib, json, os, sqlite3, sys


def db_digest(path, integrity):
    con = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    try:
        res = {}
        if integrity:
            res["integrity"] = "; ".join(r[0] for r in con.execute("PRAGMA integrity_check"))
        h = hashlib.sha256()
        n = 0
        for row in con.execute("SELECT id,user_id,created_at,kind,title,body,token,updated_at FROM events ORDER BY id"):
            h.update(repr(row).encode())
            n += 1
        res["rows"] = n
        res["digest"] = h.hexdigest()
        return res
    finally:
        con.close()


def tree_digest(root):
    h = hashlib.sha256()
    n = 0
    paths = sorted(os.path.relpath(os.path.join(dp, f), root)
                   for dp, _, fs in os.walk(root) for f in fs)
    for rel in paths:
        with open(os.path.join(root, rel), "rb") as f:
            data = f.read()
        h.update(rel.encode() + b"\0" + str(len(data)).encode() + b"\0" + data)
        n += 1
    return n, h.hexdigest()


def main():
    src, dst = sys.argv[1], sys.argv[2]
    out = {}
    try:
        s = db_digest(os.path.join(src, "app.db"), False)
        d = db_digest(os.path.join(dst, "app.db"), True)
        out["integrity"] = d["integrity"]
        out["rows_src"], out["rows_restored"] = s["rows"], d["rows"]
        out["rows_equal"] = s["digest"] == d["digest"]
    except Exception as e:  # missing or unreadable restored database
        out["db_error"] = str(e)
    try:
        ns, hs = tree_digest(os.path.join(src, "files"))
        nd, hd = tree_digest(os.path.join(dst, "files"))
        out["files_src"], out["files_restored"] = ns, nd
        out["files_equal"] = hs == hd
    except Exception as e:
        out["files_error"] = str(e)
    ok = (out.get("integrity") == "ok" and out.get("rows_equal") is True
          and out.get("rows_src") == out.get("rows_restored") and out.get("files_equal") is True)
    out["ok"] = ok
    print(json.dumps(out))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
