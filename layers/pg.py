"""The PostGIS store: one project = one schema, built from the one declaration.

A PostgreSQL project is named by a connection string with a schema::

    postgresql://user@host:port/db?schema=name

Everything here talks to the server through psycopg 3. Identifiers (schema,
tables, columns, roles) are always composed with ``psycopg.sql.Identifier``,
values are passed as parameters (or ``sql.Literal`` in DDL, which takes no
parameters); no SQL is ever built by string formatting of names or values.

What ``init`` creates in the schema (data-model.md, issue 7):

* every layer and table of ``model.yaml`` with ``fid`` (identity primary key),
  ``geom`` (typed, in the project SRID, GiST index), NOT NULL / UNIQUE /
  DEFAULT, CHECK constraints for code lists and numeric ranges, comments
  carrying the Chinese / English aliases;
* ``code_list`` and ``rp_project`` (as in the GeoPackage), ``rp_role`` (the
  owner each utility role may write);
* ``history``: one row per inserted, updated or deleted feature of a thematic
  layer, with the old and new rows as JSON, who (the database user) and when,
  kept by triggers (inserts: one statement-level trigger with a transition
  table; updates and deletes: row by row); a second trigger keeps ``updated_at``;
* row-level security on ``pipe_point`` / ``pipe_segment``: everyone reads, a
  utility role writes only rows whose ``owner`` is its own;
* QGIS styles (Chinese default and English) in ``public.layer_styles``, so
  QGIS opens the layers styled.
"""
from __future__ import annotations

import concurrent.futures
import contextlib
import contextvars
import datetime as _dt
import re
import urllib.parse

from . import schema
from .errors import InputError, require

SCHEMES = ("postgresql://", "postgres://")
SCHEMA_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
ROLE_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
GEOM_COLUMN = "geom"
FID = "fid"
PROJECT_TABLE = "rp_project"
CODE_LIST_TABLE = "code_list"
ROLE_TABLE = "rp_role"
HISTORY_TABLE = "history"
RLS_LAYERS = ("pipe_point", "pipe_segment")
ROLE_KINDS = ("viewer", "planner", "utility")

_PG_TYPES = {"text": "text", "integer": "bigint", "real": "double precision",
             "datetime": "timestamptz", "date": "date", "boolean": "boolean"}
_GEOM_TYPES = {"Point": "Point", "LineString": "LineString", "Polygon": "Polygon",
               "Geometry": "Geometry"}


def _psycopg():
    return require("psycopg", minimum="3.1", feature="PostGIS projects")


def _sql():
    return _psycopg().sql


def is_pg(project) -> bool:
    return isinstance(project, str) and project.lower().startswith(SCHEMES)


class PgProject:
    """A parsed project string: libpq conninfo (without ``schema``) and the schema."""

    def __init__(self, project: str):
        if not is_pg(project):
            raise InputError("not a PostgreSQL project string (postgresql://user@host/db?schema=name)",
                             file=project)
        parts = urllib.parse.urlsplit(project)
        query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
        schemas = [v for k, v in query if k == "schema"]
        rest = [(k, v) for k, v in query if k != "schema"]
        self.display = _redact(project)
        if len(schemas) != 1 or not schemas[0]:
            raise InputError("a PostgreSQL project needs exactly one ?schema=NAME", file=self.display)
        self.schema = schemas[0]
        if not SCHEMA_RE.match(self.schema):
            raise InputError(f"schema name {self.schema!r} is not allowed: use lower-case letters, "
                             f"digits and _ (at most 63, not starting with a digit)",
                             file=self.display)
        if not parts.path.strip("/"):
            raise InputError("a PostgreSQL project needs a database name (postgresql://host/DB?schema=...)",
                             file=self.display)
        self.conninfo = urllib.parse.urlunsplit(
            (parts.scheme, parts.netloc, parts.path, urllib.parse.urlencode(rest), ""))
        self.project = project

    def __str__(self):
        return self.display


def _redact(project: str) -> str:
    """The project string without a password (for messages and logs)."""
    parts = urllib.parse.urlsplit(project)
    if parts.password is None:
        return project
    host = parts.hostname or ""
    if parts.port:
        host += f":{parts.port}"
    user = urllib.parse.quote(parts.username or "")
    return urllib.parse.urlunsplit((parts.scheme, f"{user}:***@{host}", parts.path, parts.query, ""))


def project_string(conninfo: str, schema_name: str) -> str:
    """A ``postgresql://...?schema=`` string from a libpq key=value conninfo (tests, tools)."""
    kv = _psycopg().conninfo.conninfo_to_dict(conninfo)
    host = kv.pop("host", "localhost")
    port = kv.pop("port", None)
    user = kv.pop("user", None)
    password = kv.pop("password", None)
    db = kv.pop("dbname", "postgres")
    netloc = urllib.parse.quote(user or "")
    if password:
        netloc += ":" + urllib.parse.quote(password)
    netloc = (netloc + "@" if netloc else "") + host + (f":{port}" if port else "")
    query = urllib.parse.urlencode(list(kv.items()) + [("schema", schema_name)])
    return f"postgresql://{netloc}/{urllib.parse.quote(db)}?{query}"


# --------------------------------------------------------------------------
# Connections: one per call, or the one shared transaction of a session()

_SESSION = contextvars.ContextVar("renewal_planner_pg_session", default=None)


#: Callables ``hook(PgProject) -> dict or None``: extra keyword arguments for
#: psycopg.connect (libpq keys, e.g. ``user`` and ``password``), merged in the
#: order registered. The QGIS plugin registers one that resolves the
#: credentials of a QGIS authentication configuration in memory at connect
#: time (plugin/pgconn.py), so no password is in a project string, a setting,
#: a log or the environment.
CONNECT_HOOKS = []


def connect(project, autocommit: bool = False):
    p = project if isinstance(project, PgProject) else PgProject(project)
    psycopg = _psycopg()
    extra = {}
    for hook in list(CONNECT_HOOKS):
        extra.update(hook(p) or {})
    try:
        return psycopg.connect(p.conninfo, autocommit=autocommit,
                               application_name="renewal_planner", **extra)
    except psycopg.OperationalError as exc:
        first = str(exc).strip().splitlines()[-1] if str(exc).strip() else "connection failed"
        raise InputError(f"cannot connect to the database: {first}", file=p.display) from None


@contextlib.contextmanager
def session(project, lock_conflicts: bool = False):
    """One REPEATABLE READ transaction for everything the block reads and writes
    on ``project`` (read_layer, merge_run, ...): the layers are read from one
    snapshot and the results written at once, or nothing is written.

    ``lock_conflicts`` takes the conflict table's lock first (before the
    snapshot), so two check runs on a project merge one after the other.
    """
    p = PgProject(project)
    con = connect(p)
    sql = _sql()
    token = None
    try:
        con.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        if lock_conflicts:
            con.execute(sql.SQL("LOCK TABLE {} IN SHARE ROW EXCLUSIVE MODE").format(
                sql.Identifier(p.schema, "conflict")))
        token = _SESSION.set((p.project, con))
        yield con
        con.commit()
    except BaseException:
        con.rollback()
        raise
    finally:
        if token is not None:
            _SESSION.reset(token)
        con.close()


@contextlib.contextmanager
def _connection(project, write: bool = False):
    """The session's connection for ``project`` if one is open, else a new one
    (committed on success, rolled back on error)."""
    active = _SESSION.get()
    p = project if isinstance(project, PgProject) else PgProject(project)
    if active is not None and active[0] == p.project:
        yield active[1]
        return
    con = connect(p)
    try:
        yield con
        con.commit()
    except BaseException:
        con.rollback()
        raise
    finally:
        con.close()


def _db_error(exc, p: PgProject, layer: str = None):
    """An InputError from a database error (permission, constraint, ...)."""
    diag = getattr(exc, "diag", None)
    msg = (getattr(diag, "message_primary", None) or str(exc)).strip().splitlines()[0]
    return InputError(f"the database refused: {msg}", file=p.display, layer=layer)


# --------------------------------------------------------------------------
# init


def parse_srid(crs: str) -> int:
    """EPSG code of a projected CRS in metres (same rules as a GeoPackage)."""
    from .gpkg import crs_authid, parse_crs

    authid = crs_authid(parse_crs(crs))
    name, _, code = authid.partition(":")
    if name.upper() != "EPSG" or not code.isdigit():
        raise InputError(f"CRS {crs} has no EPSG code: a PostGIS project needs one")
    return int(code)


def _literal_default(f: schema.Field):
    sql = _sql()
    if f.default is None:
        return None
    if f.type == "text":
        return sql.Literal(str(f.default))
    if f.type == "integer":
        return sql.Literal(int(f.default))
    if f.type == "real":
        return sql.Literal(float(f.default))
    return sql.Literal(f.default)


def _column_ddl(lyr: schema.Layer, f: schema.Field, model: schema.Model):
    sql = _sql()
    parts = [sql.Identifier(f.name), sql.SQL(_PG_TYPES[f.type])]
    if f.required:
        parts.append(sql.SQL("NOT NULL"))
    if f.unique:
        parts.append(sql.SQL("UNIQUE"))
    default = _literal_default(f)
    if default is not None:
        parts += [sql.SQL("DEFAULT"), default]
    elif f.name == "uid" and lyr.thematic:
        parts.append(sql.SQL("DEFAULT replace(gen_random_uuid()::text, '-', '')"))
    if f.domain and not f.multi:
        codes = model.domain(f.domain).values
        parts.append(sql.SQL("CHECK ({} IN ({}))").format(
            sql.Identifier(f.name), sql.SQL(", ").join(sql.Literal(c) for c in codes)))
    if f.type in ("integer", "real") and (f.min is not None or f.max is not None):
        conds = []
        if f.min is not None:
            conds.append(sql.SQL("{} >= {}").format(sql.Identifier(f.name), sql.Literal(f.min)))
        if f.max is not None:
            conds.append(sql.SQL("{} <= {}").format(sql.Identifier(f.name), sql.Literal(f.max)))
        parts.append(sql.SQL("CHECK ({})").format(sql.SQL(" AND ").join(conds)))
    return sql.SQL(" ").join(parts)


def schema_statements(schema_name: str, srid: int, model: schema.Model = None, crs: str = None):
    """The composed DDL and seed statements of a project schema, in order:
    [(sql.Composed, params or None)]."""
    from .. import __version__

    sql = _sql()
    model = model or schema.model()
    s = sql.Identifier(schema_name)
    out = [(sql.SQL("CREATE SCHEMA {}").format(s), None)]

    def T(name):
        return sql.Identifier(schema_name, name)

    for lyr in model.layers.values():
        cols = [sql.SQL("{} bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY").format(
            sql.Identifier(FID))]
        cols += [_column_ddl(lyr, f, model) for f in lyr.fields]
        if lyr.geometry is not None:
            cols.append(sql.SQL("{} geometry({}, {})").format(
                sql.Identifier(GEOM_COLUMN), sql.SQL(_GEOM_TYPES[lyr.geometry]), sql.Literal(srid)))
        out.append((sql.SQL("CREATE TABLE {} ({})").format(T(lyr.name), sql.SQL(", ").join(cols)), None))
        out.append((sql.SQL("COMMENT ON TABLE {} IS {}").format(
            T(lyr.name), sql.Literal(f"{lyr.zh} / {lyr.en}")), None))
        for f in lyr.fields:
            out.append((sql.SQL("COMMENT ON COLUMN {} IS {}").format(
                sql.Identifier(schema_name, lyr.name, f.name), sql.Literal(f"{f.zh} / {f.en}")), None))
        if lyr.geometry is not None:
            out.append((sql.SQL("CREATE INDEX {} ON {} USING gist ({})").format(
                sql.Identifier(f"{lyr.name}_geom_gist"), T(lyr.name), sql.Identifier(GEOM_COLUMN)), None))
        for col in ("owner", "rule_id", "batch_id", "area_uid"):
            if col in lyr.field_names and not lyr.field(col).unique:
                out.append((sql.SQL("CREATE INDEX {} ON {} ({})").format(
                    sql.Identifier(f"{lyr.name}_{col}_idx"), T(lyr.name), sql.Identifier(col)), None))

    out.append((sql.SQL("CREATE TABLE {} (key text PRIMARY KEY, value text)").format(T(PROJECT_TABLE)), None))
    info = [("app", "renewal_planner"), ("app_version", __version__),
            ("model_version", str(model.version)), ("crs", crs or f"EPSG:{srid}"),
            ("created_at", _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"))]
    for k, v in info:
        out.append((sql.SQL("INSERT INTO {} VALUES (%s, %s)").format(T(PROJECT_TABLE)), (k, v)))
    out.append((sql.SQL(
        "CREATE TABLE {} (domain text NOT NULL, code text NOT NULL, label_zh text, label_en text, "
        "parent text, sort_order integer, PRIMARY KEY (domain, code))").format(T(CODE_LIST_TABLE)), None))
    out.append((sql.SQL("COMMENT ON TABLE {} IS {}").format(T(CODE_LIST_TABLE), sql.Literal("代码表 / Code lists")),
                None))
    for dom in model.domains.values():
        for i, (c, zh, en) in enumerate(dom.codes):
            parent = model.subclass_parent.get(c) if dom.name == "subclass" else None
            out.append((sql.SQL("INSERT INTO {} VALUES (%s, %s, %s, %s, %s, %s)").format(T(CODE_LIST_TABLE)),
                        (dom.name, c, zh, en, parent, i)))
    out.append((sql.SQL(
        "CREATE TABLE {} (role_name text PRIMARY KEY, kind text NOT NULL CHECK (kind IN ({})), "
        "owner text, CHECK ((kind = 'utility') = (owner IS NOT NULL)))").format(
        T(ROLE_TABLE), sql.SQL(", ").join(sql.Literal(k) for k in ROLE_KINDS)), None))
    out.append((sql.SQL(
        "CREATE TABLE {} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, layer text NOT NULL, "
        "op text NOT NULL, uid text, old_values jsonb, new_values jsonb, changed_by text NOT NULL, "
        "changed_at timestamptz NOT NULL DEFAULT now(), txid bigint NOT NULL DEFAULT txid_current())"
    ).format(T(HISTORY_TABLE)), None))
    out.append((sql.SQL("COMMENT ON TABLE {} IS {}").format(
        T(HISTORY_TABLE), sql.Literal("修改历史 / Change history (kept by triggers)")), None))
    out.append((sql.SQL("CREATE INDEX {} ON {} (layer, uid)").format(
        sql.Identifier("history_layer_uid_idx"), T(HISTORY_TABLE)), None))

    # History: SECURITY DEFINER so that no role needs (or gets) write access to
    # the history table; the table name comes from the trigger's own schema.
    out.append((sql.SQL(
        "CREATE FUNCTION {}() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER "
        "SET search_path = pg_catalog, pg_temp AS $fn$\n"
        "DECLARE who text := CASE WHEN current_setting('role') <> 'none' "
        "THEN current_setting('role') ELSE session_user::text END;\n"
        "BEGIN\n"
        "  IF TG_OP = 'INSERT' THEN\n"
        "    EXECUTE format('INSERT INTO %I.%I (layer, op, uid, old_values, new_values, changed_by) "
        "VALUES ($1, $2, $3, NULL, $4, $5)', TG_TABLE_SCHEMA, {})\n"
        "      USING TG_TABLE_NAME, TG_OP, NEW.uid, to_jsonb(NEW), who;\n"
        "  ELSIF TG_OP = 'UPDATE' THEN\n"
        "    EXECUTE format('INSERT INTO %I.%I (layer, op, uid, old_values, new_values, changed_by) "
        "VALUES ($1, $2, $3, $4, $5, $6)', TG_TABLE_SCHEMA, {})\n"
        "      USING TG_TABLE_NAME, TG_OP, NEW.uid, to_jsonb(OLD), to_jsonb(NEW), who;\n"
        "  ELSE\n"
        "    EXECUTE format('INSERT INTO %I.%I (layer, op, uid, old_values, new_values, changed_by) "
        "VALUES ($1, $2, $3, $4, NULL, $5)', TG_TABLE_SCHEMA, {})\n"
        "      USING TG_TABLE_NAME, TG_OP, OLD.uid, to_jsonb(OLD), who;\n"
        "  END IF;\n"
        "  RETURN NULL;\n"
        "END $fn$").format(T("rp_history"), *[sql.Literal(HISTORY_TABLE)] * 3), None))
    # Inserts: one statement-level trigger with a transition table (one INSERT ... SELECT a
    # statement, in fid order: the rows a row-level trigger would write, at a fraction of its
    # cost on a bulk import); updates and deletes stay row by row (old and new paired exactly).
    # new_values is to_jsonb(row) with every geometry as PostGIS's geometry -> jsonb cast gives it
    # (GeoJSON, 15 digits, short CRS), made with ST_AsGeoJSON(g, 15, 2): the cast looks the CRS up
    # in spatial_ref_sys once per row inside to_jsonb (~40 us a row); beyond 50 columns
    # (jsonb_build_object's argument limit) to_jsonb itself.
    out.append((sql.SQL(
        "CREATE FUNCTION {}() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER "
        "SET search_path = pg_catalog, pg_temp AS $fn$\n"
        "DECLARE who text := CASE WHEN current_setting('role') <> 'none' "
        "THEN current_setting('role') ELSE session_user::text END;\n"
        "  sel text; ncol int;\n"
        "BEGIN\n"
        "  SELECT string_agg(CASE WHEN t.typname = 'geometry' "
        "THEN format('%L, %I.st_asgeojson(n.%I, 15, 2)::jsonb', a.attname, tn.nspname, a.attname) "
        "ELSE format('%L, n.%I', a.attname, a.attname) END, ', ' ORDER BY a.attnum), count(*) INTO sel, ncol "
        "FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid JOIN pg_namespace tn ON tn.oid = t.typnamespace "
        "WHERE a.attrelid = TG_RELID AND a.attnum > 0 AND NOT a.attisdropped;\n"
        "  sel := CASE WHEN ncol <= 50 THEN 'jsonb_build_object(' || sel || ')' ELSE 'to_jsonb(n)' END;\n"
        "  EXECUTE format('INSERT INTO %I.%I (layer, op, uid, old_values, new_values, changed_by) "
        "SELECT $1, ''INSERT'', n.uid, NULL, %s, $2 FROM rp_new_rows n ORDER BY n.{}', "
        "TG_TABLE_SCHEMA, {}, sel)\n"
        "    USING TG_TABLE_NAME, who;\n"
        "  RETURN NULL;\n"
        "END $fn$").format(T("rp_history_insert"), sql.SQL(FID), sql.Literal(HISTORY_TABLE)), None))
    out.append((sql.SQL(
        "CREATE FUNCTION {}() RETURNS trigger LANGUAGE plpgsql AS $fn$\n"
        "BEGIN\n"
        "  IF TG_OP = 'INSERT' THEN NEW.updated_at := coalesce(NEW.updated_at, now());\n"
        "  ELSIF NEW IS DISTINCT FROM OLD THEN NEW.updated_at := now();\n"
        "  END IF;\n"
        "  RETURN NEW;\n"
        "END $fn$").format(T("rp_touch")), None))
    for lyr in model.thematic:
        # updated_at: on an update always; on an insert only when none is given (the WHEN clause is
        # evaluated without calling the function: a bulk import that sets updated_at pays nothing)
        out.append((sql.SQL("CREATE TRIGGER rp_touch BEFORE UPDATE ON {} "
                            "FOR EACH ROW EXECUTE FUNCTION {}()").format(T(lyr.name), T("rp_touch")), None))
        out.append((sql.SQL("CREATE TRIGGER rp_touch_insert BEFORE INSERT ON {} FOR EACH ROW "
                            "WHEN (NEW.updated_at IS NULL) EXECUTE FUNCTION {}()").format(
            T(lyr.name), T("rp_touch")), None))
        out.append((sql.SQL("CREATE TRIGGER rp_history AFTER UPDATE OR DELETE ON {} "
                            "FOR EACH ROW EXECUTE FUNCTION {}()").format(T(lyr.name), T("rp_history")), None))
        out.append((sql.SQL("CREATE TRIGGER rp_history_insert AFTER INSERT ON {} REFERENCING NEW TABLE AS "
                            "rp_new_rows FOR EACH STATEMENT EXECUTE FUNCTION {}()").format(
            T(lyr.name), T("rp_history_insert")), None))

    # Row-level security: everyone with SELECT reads every row; a utility role
    # writes only the rows of the owner rp_role gives it. The project's owner
    # (who ran init) is not subject to it.
    own = sql.SQL("(SELECT r.owner FROM {} r WHERE r.role_name = current_user AND r.kind = 'utility')").format(
        T(ROLE_TABLE))
    for name in RLS_LAYERS:
        out.append((sql.SQL("ALTER TABLE {} ENABLE ROW LEVEL SECURITY").format(T(name)), None))
        out.append((sql.SQL("CREATE POLICY rp_read ON {} FOR SELECT USING (true)").format(T(name)), None))
        out.append((sql.SQL("CREATE POLICY rp_owner_insert ON {} FOR INSERT WITH CHECK (owner = {})").format(
            T(name), own), None))
        out.append((sql.SQL("CREATE POLICY rp_owner_update ON {} FOR UPDATE USING (owner = {}) "
                            "WITH CHECK (owner = {})").format(T(name), own, own), None))
        out.append((sql.SQL("CREATE POLICY rp_owner_delete ON {} FOR DELETE USING (owner = {})").format(
            T(name), own), None))
    return out


LAYER_STYLES_DDL = (
    "CREATE TABLE IF NOT EXISTS public.layer_styles (id serial PRIMARY KEY, f_table_catalog varchar, "
    "f_table_schema varchar, f_table_name varchar, f_geometry_column varchar, stylename text, "
    "styleqml xml, stylesld xml, useasdefault boolean, description text, "
    "owner varchar(63) DEFAULT CURRENT_USER, ui xml, update_time timestamp DEFAULT CURRENT_TIMESTAMP, "
    "type varchar)")


def init_project(project: str, crs: str = None, styles: bool = True) -> str:
    """Create the project schema in one transaction: everything or nothing.

    Returns the project string (password redacted). InputError when the
    schema exists already, the server lacks PostGIS or the CRS is unusable.
    """
    psycopg = _psycopg()
    p = PgProject(project)
    model = schema.model()
    crs = crs or model.default_crs
    srid = parse_srid(crs)
    qml = build_styles(model) if styles else {}
    con = connect(p)
    try:
        with con.transaction():
            if con.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (p.schema,)).fetchone():
                raise InputError(f"schema {p.schema} exists already; it was left untouched "
                                 f"(choose a new schema name)", file=p.display)
            if not con.execute("SELECT 1 FROM pg_extension WHERE extname = 'postgis'").fetchone():
                try:
                    with con.transaction():
                        con.execute("CREATE EXTENSION postgis")
                except psycopg.Error:
                    raise InputError("the database has no PostGIS and it cannot be created here "
                                     "(ask an administrator: CREATE EXTENSION postgis)",
                                     file=p.display) from None
            if not con.execute("SELECT 1 FROM spatial_ref_sys WHERE srid = %s", (srid,)).fetchone():
                raise InputError(f"the database does not know EPSG:{srid}", file=p.display)
            for stmt, params in schema_statements(p.schema, srid, model, crs=f"EPSG:{srid}"):
                con.execute(stmt, params)
            if qml:
                _store_styles(con, p, model, qml)
        con.commit()
    except psycopg.Error as exc:
        con.rollback()
        raise _db_error(exc, p) from None
    finally:
        con.close()
    return p.display


# --------------------------------------------------------------------------
# Styles: QML built by layers/styles.py on an in-memory layer of the same
# fields, stored as QGIS's postgres provider stores them.

_MEM_TYPES = {"text": "string", "integer": "long", "real": "double", "datetime": "datetime",
              "date": "date", "boolean": "boolean"}


def build_styles(model: schema.Model = None) -> dict:
    """{(layer, lang): QML text} for every layer of the model (needs QGIS)."""
    from qgis.PyQt.QtXml import QDomDocument
    from qgis.core import QgsVectorLayer

    from . import styles
    from .qgis_env import qgis_app

    qgis_app()
    model = model or schema.model()
    out = {}
    for lyr in model.layers.values():
        geom = {"Geometry": "Point", None: "None"}.get(lyr.geometry, lyr.geometry)
        fields = "&".join(f"field={f.name}:{_MEM_TYPES[f.type]}" for f in
                          [schema.Field(FID, "integer", "", "")] + list(lyr.fields))
        uri = f"{geom}?crs={model.default_crs}&{fields}" if geom != "None" else f"None?{fields}"
        for lang in ("zh", "en"):
            layer = QgsVectorLayer(uri, lyr.name, "memory")
            if not layer.isValid():
                raise RuntimeError(f"cannot build a memory layer for {lyr.name}")
            styles.build_layer_style(layer, lyr.name, lang, any_geometry=lyr.geometry == "Geometry")
            doc = QDomDocument()
            err = layer.exportNamedStyle(doc)
            if isinstance(err, tuple):
                err = err[-1]
            text = doc.toString()
            if lyr.geometry == "Geometry" or lyr.geometry is None:
                text = re.sub(r"<layerGeometryType>\s*\d+\s*</layerGeometryType>\s*", "", text)
            out[(lyr.name, lang)] = text
    return out


def _store_styles(con, p: PgProject, model, qml: dict):
    from .styles import STYLE_NAME

    sql = _sql()
    con.execute(LAYER_STYLES_DDL)
    have = {r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' "
        "AND table_name = 'layer_styles'")}
    db = con.execute("SELECT current_database()").fetchone()[0]
    for lyr in model.layers.values():
        for lang, default in (("zh", True), ("en", False)):
            row = {"f_table_catalog": db, "f_table_schema": p.schema, "f_table_name": lyr.name,
                   "f_geometry_column": GEOM_COLUMN if lyr.geometry else None,
                   "stylename": STYLE_NAME[lang], "styleqml": qml[(lyr.name, lang)], "stylesld": None,
                   "useasdefault": default,
                   "description": f"Renewal Planner {lyr.zh} / {lyr.en} ({lang})",
                   "ui": None, "type": None}
            cols = [c for c in row if c in have]
            con.execute(sql.SQL("INSERT INTO public.layer_styles ({}) VALUES ({})").format(
                sql.SQL(", ").join(map(sql.Identifier, cols)),
                sql.SQL(", ").join(sql.Placeholder() * len(cols))), [row[c] for c in cols])


# --------------------------------------------------------------------------
# Project info, layers


def project_info(project: str) -> dict:
    p = PgProject(project)
    with _connection(p) as con:
        return project_info_con(con, p)


def list_layers(project: str) -> list:
    p = PgProject(project)
    with _connection(p) as con:
        return [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s ORDER BY table_name",
            (p.schema,))]


def _columns(con, p: PgProject, name: str) -> dict:
    """{column: type name} of a table, in column order (pg_catalog: much faster
    than information_schema)."""
    return dict(con.execute(
        "SELECT a.attname, t.typname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_type t ON t.oid = a.atttypid "
        "WHERE n.nspname = %s AND c.relname = %s AND a.attnum > 0 AND NOT a.attisdropped "
        "ORDER BY a.attnum",
        (p.schema, name)).fetchall())


def _model_layer(name: str, p: PgProject):
    try:
        return schema.model().layer(name)
    except KeyError:
        raise InputError("is not a layer of the data model", file=p.display, layer=str(name)) from None


#: model field type -> Arrow type of its CSV text (datetimes converted after)
_ARROW_TYPES = {"text": "string", "integer": "int64", "real": "float64", "datetime": "timestamp",
                "date": "date32", "boolean": "bool_"}
_TYPNAME_TYPES = {"text": "text", "varchar": "text", "bpchar": "text", "int2": "integer", "int4": "integer",
                  "int8": "integer", "float4": "real", "float8": "real", "numeric": "real",
                  "timestamptz": "datetime", "timestamp": "datetime", "date": "date", "bool": "boolean"}


#: bytes of CSV rows parsed at once (while the next ones arrive)
_READ_BLOCK = 8 << 20


def _arrow_type(pa, ftype):
    if ftype == "datetime":
        return pa.timestamp("us", tz="UTC")
    return getattr(pa, _ARROW_TYPES[ftype])()


def read_layer(project: str, name: str, columns=None, where: str = None, bbox=None,
               active_only: bool = False):
    """io.read_layer for a PostGIS project: the same frame as from a GeoPackage
    (pyogrio through Arrow): same columns in the same order, dtypes (``str``,
    float64 for integers with NULLs, datetime64[ms, UTC] for timestamps, naive
    datetime64[ms] when every value is NULL, dates as datetime64[ms]), NULLs,
    geometry and CRS.

    One ``COPY (SELECT ...) TO STDOUT (FORMAT csv)`` parsed by pyarrow.csv with
    explicit column types: NULL is the unquoted empty field and an empty string
    the quoted ``""`` (``quoted_strings_can_be_null=False``), so no text value can
    be mistaken for NULL; geometry travels as WKB (bytea hex) for shapely.from_wkb.
    ``bbox`` keeps the rows whose geometry intersects the rectangle (as GDAL's
    spatial filter does), through the GiST index.

    ``where`` is an SQL expression written by our own code (as for GDAL);
    values from users must reach it escaped (tools/engine/context.py does).
    """
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pcsv
    import shapely

    psycopg = _psycopg()
    sql = _sql()
    p = PgProject(project)
    lyr = _model_layer(name, p)
    with _connection(p) as con:
        have = _columns(con, p, name)
        if not have:
            raise InputError("layer is missing from the project", file=p.display, layer=name)
        missing = [f.name for f in lyr.fields if f.required and f.name not in have]
        if missing:
            raise InputError(f"required field missing: {', '.join(missing)}", file=p.display,
                             layer=name, field=missing[0])
        wanted = set(columns or lyr.field_names)
        # the table's column order, as GDAL gives the fields of a GeoPackage layer
        cols = [c for c in have if c in wanted and c not in (FID, GEOM_COLUMN)]
        ftypes = {c: lyr.field(c).type if c in lyr.field_names else _TYPNAME_TYPES.get(have[c], "text")
                  for c in cols}
        sel = [sql.Identifier(c) for c in cols]
        geom = lyr.geometry is not None and GEOM_COLUMN in have
        if geom:
            sel.append(sql.SQL("ST_AsBinary({})").format(sql.Identifier(GEOM_COLUMN)))
        q = _select(project, p, name, have, sel, where, bbox if geom else None, active_only)
        copy = sql.SQL("COPY ({}) TO STDOUT WITH (FORMAT csv, ENCODING 'UTF8')").format(q)
        names = list(cols) + (["__wkb"] if geom else [])
        types = {c: _arrow_type(pa, ftypes[c]) for c in cols}
        if geom:
            types["__wkb"] = pa.string()
        if not sel:
            names, types = ["__one"], {"__one": pa.int64()}

        def parse(data):
            """One block of whole rows (the server sends one CopyData message per
            row) -> (Arrow table without the WKB, geometries or None)."""
            t = pcsv.read_csv(
                pa.BufferReader(data),
                read_options=pcsv.ReadOptions(column_names=names, block_size=1 << 24),
                parse_options=pcsv.ParseOptions(newlines_in_values=True),
                convert_options=pcsv.ConvertOptions(column_types=types, null_values=[""],
                                                    strings_can_be_null=True,
                                                    quoted_strings_can_be_null=False))
            if not geom:
                return t, None
            g = shapely.from_wkb(_hex_wkb(pa, pc, np, t.column("__wkb")))
            return t.drop_columns(["__wkb"]), g

        # the blocks are parsed in a second thread while the next rows arrive
        # (pyarrow, numpy and GEOS work outside the GIL mostly)
        futures = []
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            try:
                with con.transaction():
                    # ISO text in UTC for timestamps and dates, exact floats; put back after
                    before = con.execute(
                        "SELECT current_setting('TimeZone'), current_setting('DateStyle'), "
                        "current_setting('extra_float_digits'), set_config('TimeZone', 'UTC', true), "
                        "set_config('DateStyle', 'ISO, YMD', true), "
                        "set_config('extra_float_digits', '1', true)").fetchone()[:3]
                    chunks, size = [], 0
                    for chunk in _copy_out(con, copy):
                        chunks.append(chunk)
                        size += len(chunk)
                        if size >= _READ_BLOCK:
                            futures.append(pool.submit(parse, b"".join(chunks)))
                            chunks, size = [], 0
                    if chunks:
                        futures.append(pool.submit(parse, b"".join(chunks)))
                    del chunks
                    con.execute("SELECT set_config('TimeZone', %s, true), set_config('DateStyle', %s, true), "
                                "set_config('extra_float_digits', %s, true)", before)
            except psycopg.Error as exc:
                for f in futures:
                    f.cancel()
                raise _db_error(exc, p, layer=name) from None
            parts = [f.result() for f in futures]
    if parts:
        table = pa.concat_tables([t for t, _ in parts]) if len(parts) > 1 else parts[0][0]
    else:
        table = pa.table({c: pa.array([], type=types[c]) for c in names if c != "__wkb"})
    geoms = None
    if geom:
        geoms = np.concatenate([g for _, g in parts]) if len(parts) > 1 else \
            parts[0][1] if parts else np.empty(0, dtype=object)
    del parts, futures
    nrows = table.num_rows
    if not sel:
        table = table.drop_columns(["__one"])
    for c in cols:  # as pyogrio + io.read_layer normalise them
        i = table.schema.get_field_index(c)
        if ftypes[c] == "datetime":
            col = table.column(i)
            target = pa.timestamp("ms") if col.null_count == len(col) else pa.timestamp("ms", tz="UTC")
            if col.null_count == len(col):
                col = pa.nulls(len(col), type=target)
            else:
                col = col.cast(target, safe=False)
            table = table.set_column(i, c, col)
        elif ftypes[c] == "date":
            table = table.set_column(i, c, table.column(i).cast(pa.timestamp("ms")))
    df = table.to_pandas(**_to_pandas_kwargs(pa, pd, np))
    del table
    if not sel:
        df = pd.DataFrame(index=pd.RangeIndex(nrows))
    if lyr.geometry is not None:
        gpd = require("geopandas", minimum="0.14", feature="Reading project layers")
        if geoms is None:
            geoms = np.full(nrows, None, dtype=object)
        crs = project_crs(project)
        df = gpd.GeoDataFrame(df, geometry=geoms, crs=crs)
    for f in lyr.fields:  # absent optional fields read as all-null (after the geometry, as io does)
        if f.name not in df.columns and (columns is None or f.name in columns):
            df[f.name] = None
    return df


def _copy_out(con, statement):
    """The CopyData messages (one per row) of ``COPY ... TO STDOUT``, read with
    blocking libpq calls: psycopg's Copy iterator costs ~5 us a row in Python,
    which at a million rows is most of a layer's read."""
    psycopg = _psycopg()
    pq = psycopg.pq
    pgc = con.pgconn
    enc = con.info.encoding
    res = pgc.exec_(statement.as_bytes(con))
    if res.status != pq.ExecStatus.COPY_OUT:
        if res.status == pq.ExecStatus.FATAL_ERROR:
            raise psycopg.errors.error_from_result(res, encoding=enc)
        raise psycopg.ProgrammingError(f"COPY TO STDOUT expected, the server answered {res.status.name}")
    done = False
    try:
        while True:
            nbytes, data = pgc.get_copy_data(0)
            if nbytes == -1:
                break
            if nbytes < -1:
                raise psycopg.OperationalError(pgc.error_message.decode(enc, "replace") or "COPY failed")
            yield data
        done = True
    finally:
        if not done:  # stopped early: cancel the rest of the COPY
            try:
                con.cancel()
                while pgc.get_copy_data(0)[0] >= 0:
                    pass
            except Exception:  # noqa: BLE001 (the error that stopped us is the one to raise)
                pass
        error = None
        while True:
            r = pgc.get_result()
            if r is None:
                break
            if r.status == pq.ExecStatus.FATAL_ERROR and error is None:
                error = psycopg.errors.error_from_result(r, encoding=enc)
        if error is not None and done:
            raise error


def _select(project, p: PgProject, name: str, have, sel, where, bbox, active_only):
    """SELECT ``sel`` FROM the layer with the filters of read_layer, in fid order."""
    sql = _sql()
    conds = []
    if where:
        conds.append(sql.SQL("(") + sql.SQL(where) + sql.SQL(")"))
    if active_only and "status" in have:
        conds.append(sql.SQL("({s} IS NULL OR {s} <> 'abandoned')").format(s=sql.Identifier("status")))
    if bbox is not None:
        # a constant envelope in the project SRID: an index condition for the GiST
        # index; ST_Intersects = GDAL's spatial filter (not just the boxes overlap)
        srid = parse_srid(project_crs(project))
        conds.append(sql.SQL("ST_Intersects({}, ST_MakeEnvelope({}, {}, {}, {}, {}))").format(
            sql.Identifier(GEOM_COLUMN), *[sql.Literal(float(v)) for v in bbox], sql.Literal(srid)))
    q = sql.SQL("SELECT {} FROM {}").format(sql.SQL(", ").join(sel) if sel else sql.SQL("1"),
                                            sql.Identifier(p.schema, name))
    if conds:
        q += sql.SQL(" WHERE ") + sql.SQL(" AND ").join(conds)
    return q + sql.SQL(" ORDER BY {}").format(sql.Identifier(FID))


def explain_read(project: str, name: str, where: str = None, bbox=None, active_only: bool = False) -> str:
    """The server's plan (EXPLAIN text) of the query read_layer runs (tests, bench)."""
    sql = _sql()
    p = PgProject(project)
    lyr = _model_layer(name, p)
    with _connection(p) as con:
        have = _columns(con, p, name)
        sel = [sql.Identifier(c) for c in have if c in lyr.field_names]
        geom = lyr.geometry is not None and GEOM_COLUMN in have
        q = _select(project, p, name, have, sel, where, bbox if geom else None, active_only)
        return "\n".join(r[0] for r in con.execute(sql.SQL("EXPLAIN ") + q).fetchall())


_HEX = None


def _hex_wkb(pa, pc, np, col):
    """bytea text (``\\x`` + hex) of a string column -> object array of WKB bytes
    (None for NULL), decoded with numpy: shapely parses bytes about 4x faster
    than hex strings."""
    global _HEX
    if _HEX is None:
        lut = np.zeros(256, dtype=np.uint8)
        for i, ch in enumerate(b"0123456789abcdef"):
            lut[ch] = i
        for i, ch in enumerate(b"ABCDEF"):
            lut[ch] = 10 + i
        _HEX = lut
    parts = []
    for chunk in col.chunks:
        valid = chunk.is_valid() if chunk.null_count else None
        arr = pc.utf8_slice_codeunits(chunk.fill_null("\\x") if chunk.null_count else chunk, 2)
        arr = pa.concat_arrays([arr]) if arr.offset else arr
        offs = np.frombuffer(arr.buffers()[1], dtype=np.int32)[: len(arr) + 1]
        data = np.frombuffer(arr.buffers()[2], dtype=np.uint8) if arr.buffers()[2] is not None \
            else np.empty(0, dtype=np.uint8)
        hexes = _HEX[data[offs[0]:offs[-1]]]
        raw = (hexes[0::2] << 4) | hexes[1::2]
        binary = pa.Array.from_buffers(pa.binary(), len(arr), [
            None, pa.py_buffer(((offs - offs[0]) // 2).astype(np.int32)), pa.py_buffer(raw.tobytes())])
        out = binary.to_numpy(zero_copy_only=False)
        if valid is not None:
            out[~valid.to_numpy(zero_copy_only=False)] = None
        parts.append(out)
    if not parts:
        return np.empty(0, dtype=object)
    return np.concatenate(parts) if len(parts) > 1 else parts[0]


def _to_pandas_kwargs(pa, pd, np) -> dict:
    """The Arrow -> pandas options pyogrio uses (so text columns get the same dtype)."""
    kwargs = {"self_destruct": True}
    if int(pd.__version__.split(".")[0]) >= 3 and tuple(int(x) for x in pa.__version__.split(".")[:1]) < (19,):
        kwargs["types_mapper"] = {pa.string(): pd.StringDtype(na_value=np.nan),
                                  pa.large_string(): pd.StringDtype(na_value=np.nan)}.get
    return kwargs


_CRS_CACHE = {}


def project_crs(project: str) -> str:
    """The project's CRS (fixed at init: cached per project string)."""
    crs = _CRS_CACHE.get(project)
    if crs is None:
        crs = project_info(project).get("crs")
        if crs:
            _CRS_CACHE[project] = crs
    return crs


def _geometry_name(lyr, frame):
    """The frame's geometry column when the layer has geometry, else None."""
    if lyr.geometry is not None and getattr(frame, "geometry", None) is not None:
        return frame.geometry.name
    return None


def write_layer(project: str, name: str, frame) -> int:
    """Append the rows of a prepared frame (io.write_layer did the defaults) with COPY."""
    import numpy as np
    import pandas as pd
    import shapely

    psycopg = _psycopg()
    sql = _sql()
    p = PgProject(project)
    lyr = _model_layer(name, p)
    geom_name = _geometry_name(lyr, frame)
    cols = [c for c in frame.columns if c != geom_name]
    columns = [_py_values(pd, np, frame[c]) for c in cols]
    for i, c in enumerate(cols):  # integers read back as float64 when a value is missing
        if c in lyr.field_names and lyr.field(c).type == "integer":
            columns[i] = [int(v) if isinstance(v, float) and v.is_integer() else v for v in columns[i]]
    if geom_name:
        srid = parse_srid(project_crs(project))
        g = shapely.set_srid(np.asarray(frame.geometry.to_numpy(), dtype=object), srid)
        columns.append(list(shapely.to_wkb(g, hex=True, include_srid=True)))
        cols = cols + [GEOM_COLUMN]
    # COPY into a temporary table, then one INSERT: COPY itself is refused on
    # tables with row-level security, and the INSERT goes through the policies.
    target = sql.Identifier(p.schema, name)
    names = sql.SQL(", ").join(map(sql.Identifier, cols))
    tmp = sql.Identifier("pg_temp", "rp_load")
    with _connection(p, write=True) as con:
        try:
            with con.transaction():
                con.execute(sql.SQL("DROP TABLE IF EXISTS {}").format(tmp))
                con.execute(sql.SQL("CREATE TEMPORARY TABLE rp_load AS SELECT {} FROM {} WITH NO DATA").format(
                    names, target))
                with con.cursor().copy(sql.SQL("COPY {} ({}) FROM STDIN").format(tmp, names)) as cp:
                    for row in zip(*columns):
                        cp.write_row(row)
                con.execute(sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {}").format(target, names, names, tmp))
                con.execute(sql.SQL("DROP TABLE {}").format(tmp))
        except psycopg.Error as exc:
            raise _db_error(exc, p, layer=name) from None
    return len(frame)


def bulk_load(project: str, name: str, frame, chunk: int = 200_000) -> int:
    """Fast initial load of a layer by the project's owner: CSV ``COPY`` straight
    into the table, in one transaction, with the layer's triggers off for the
    load (no history rows for it: the history starts with the loaded state;
    ``updated_at`` is kept or set to now). Returns the rows loaded.

    Refused by the database for anyone but the table's owner (ALTER TABLE);
    users' uploads go through the importer, editing through QGIS.
    """
    import csv
    import io as _io

    import numpy as np
    import pandas as pd
    import shapely

    psycopg = _psycopg()
    sql = _sql()
    p = PgProject(project)
    lyr = _model_layer(name, p)
    geom_name = _geometry_name(lyr, frame)
    cols = [c for c in frame.columns if c != geom_name and c in lyr.field_names]
    out = pd.DataFrame(index=pd.RangeIndex(len(frame)))
    now = _dt.datetime.now(_dt.timezone.utc).isoformat()
    for c in cols:
        f, s = lyr.field(c), frame[c].reset_index(drop=True)
        if f.type == "integer":
            s = pd.to_numeric(s).round().astype("Int64")
        elif f.type in ("datetime", "date") and str(s.dtype).startswith("datetime64"):
            s = s.map(lambda v: None if pd.isna(v) else v.isoformat())
        elif f.type == "boolean":
            s = s.astype("boolean")
        out[c] = s
    if "updated_at" in lyr.field_names:
        if "updated_at" not in out.columns:
            out["updated_at"] = now
        else:
            out["updated_at"] = out["updated_at"].where(out["updated_at"].notna(), now)
    names = list(out.columns)
    if geom_name:
        srid = parse_srid(project_crs(project))
        g = shapely.set_srid(np.asarray(frame.geometry.to_numpy(), dtype=object), srid)
        out[GEOM_COLUMN] = shapely.to_wkb(g, hex=True, include_srid=True)
        names.append(GEOM_COLUMN)
    target = sql.Identifier(p.schema, name)
    copy = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv, NULL {})").format(
        target, sql.SQL(", ").join(map(sql.Identifier, names)), sql.Literal("\\N"))
    with _connection(p, write=True) as con:
        try:
            with con.transaction():
                con.execute(sql.SQL("ALTER TABLE {} DISABLE TRIGGER USER").format(target))
                with con.cursor().copy(copy) as cp:
                    for i in range(0, len(out), chunk):
                        buf = _io.StringIO()
                        out.iloc[i:i + chunk].to_csv(buf, header=False, index=False, na_rep="\\N",
                                                     quoting=csv.QUOTE_MINIMAL)
                        cp.write(buf.getvalue().encode("utf-8"))
                con.execute(sql.SQL("ALTER TABLE {} ENABLE TRIGGER USER").format(target))
                con.execute(sql.SQL("ANALYZE {}").format(target))
        except psycopg.Error as exc:
            raise _db_error(exc, p, layer=name) from None
    return len(out)


def _py_values(pd, np, s):
    if str(s.dtype).startswith("datetime64"):
        return [None if pd.isna(v) else v.to_pydatetime() for v in s]
    out = []
    for v in s.to_numpy(dtype=object):
        if v is None or (isinstance(v, float) and v != v) or v is pd.NA or v is pd.NaT:
            out.append(None)
        elif isinstance(v, np.integer):
            out.append(int(v))
        elif isinstance(v, np.floating):
            out.append(float(v))
        elif isinstance(v, pd.Timestamp):
            out.append(v.to_pydatetime())
        else:
            out.append(v)
    return out


# --------------------------------------------------------------------------
# Results: the conflict table


def read_conflict_state(project: str, ids=None, area=None):
    """DataFrame (conflict_id, fid, review, previous_review, rule_id, g) of the
    stored findings a merge can touch.

    Without ``area`` (a whole run): every row, without geometry (``g`` None).
    With ``area`` (a shapely geometry, an area run): the rows whose
    conflict_id is in ``ids`` (the run's findings; unique index) and, with
    their geometry, those intersecting ``area`` (GiST: ``&&`` on the area's
    envelope, then ST_Intersects): two indexed queries, so a one-area check
    does not read the whole city's findings.
    """
    import io as _io

    import numpy as np
    import pandas as pd
    import shapely

    sql = _sql()
    p = PgProject(project)
    t = sql.Identifier(p.schema, "conflict")
    cols = ["conflict_id", "fid", "review", "previous_review", "rule_id"]
    sel = sql.SQL(", ").join(map(sql.Identifier, cols))
    with _connection(p) as con:
        if area is None:
            buf = _io.BytesIO()
            with con.cursor().copy(sql.SQL("COPY (SELECT {} FROM {}) TO STDOUT WITH (FORMAT csv)").format(
                    sel, t)) as cp:
                for chunk in cp:
                    buf.write(chunk)
            buf.seek(0)
            df = pd.read_csv(buf, names=cols, dtype={c: object for c in cols if c != "fid"} | {"fid": "int64"},
                             keep_default_na=False, na_values=[""]) if buf.getbuffer().nbytes else \
                pd.DataFrame({c: pd.Series([], dtype="int64" if c == "fid" else object) for c in cols})
            df = df.astype({c: object for c in cols if c != "fid"})
            for c in ("previous_review",):
                df[c] = df[c].where(df[c].notna(), None)
            df["g"] = None
            return df
        srid = parse_srid(project_crs(project))
        rows = con.execute(sql.SQL("SELECT {}, NULL FROM {} WHERE conflict_id = ANY(%s)").format(sel, t),
                           [[str(i) for i in (ids if ids is not None else [])]]).fetchall()
        rows += con.execute(sql.SQL(
            "SELECT {}, ST_AsBinary(geom) FROM {} WHERE geom && ST_MakeEnvelope(%s, %s, %s, %s, {}) "
            "AND ST_Intersects(geom, ST_GeomFromWKB(%s, {}))").format(
            sel, t, sql.Literal(srid), sql.Literal(srid)),
            [*map(float, area.bounds), shapely.to_wkb(area)]).fetchall()
    df = pd.DataFrame(rows, columns=cols + ["wkb"]).drop_duplicates("fid").reset_index(drop=True)
    wkb = np.array([bytes(b) if b is not None else None for b in df["wkb"]], dtype=object)
    df["g"] = list(shapely.from_wkb(wkb)) if len(df) else []
    return df.drop(columns="wkb")


def write_run(project: str, measure_cols, data, geoms, stale_fid, stale_prev, now) -> None:
    """Write a planned merge (tools/results.py) set-based, in one transaction.

    ``data``: one row per finding (ord, conflict_id, measure columns, fid of
    the stored row or NA for a new finding, review, previous_review);
    ``geoms`` its geometries. The rows go in with one CSV COPY into a
    temporary table, then one UPDATE (findings seen again), one INSERT (new
    findings, in the run's order) and one UPDATE (stale -> resolved).
    """
    import numpy as np
    import shapely

    psycopg = _psycopg()
    sql = _sql()
    p = PgProject(project)
    t = sql.Identifier(p.schema, "conflict")
    srid = parse_srid(project_crs(project))
    out = data.copy()
    g = shapely.set_srid(np.asarray(geoms, dtype=object), srid) if len(out) else np.empty(0, dtype=object)
    out["geom"] = shapely.to_wkb(g, hex=True, include_srid=True) if len(out) else []
    names = list(out.columns)
    mc = [sql.Identifier(c) for c in measure_cols]
    tmp = sql.Identifier("rp_run")
    with _connection(p, write=True) as con:
        try:
            with con.transaction():
                con.execute("DROP TABLE IF EXISTS pg_temp.rp_run")
                con.execute(sql.SQL(
                    "CREATE TEMPORARY TABLE rp_run AS SELECT 0::bigint AS ord, conflict_id, {}, "
                    "fid, review, previous_review, geom FROM {} WITH NO DATA").format(
                    sql.SQL(", ").join(mc), t))
                if len(out):
                    with con.cursor().copy(sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv)").format(
                            tmp, sql.SQL(", ").join(map(sql.Identifier, names)))) as cp:
                        cp.write(_run_csv(out))
                    con.execute("ANALYZE pg_temp.rp_run")
                    con.execute(sql.SQL(
                        "UPDATE {} c SET {}, geom = r.geom, last_seen = %s, review = r.review, "
                        "previous_review = r.previous_review FROM rp_run r "
                        "WHERE r.fid IS NOT NULL AND c.fid = r.fid").format(
                        t, sql.SQL(", ").join(sql.SQL("{} = r.{}").format(c, c) for c in mc)), [now])
                    con.execute(sql.SQL(
                        "INSERT INTO {} (conflict_id, {}, geom, review, first_seen, last_seen) "
                        "SELECT conflict_id, {}, geom, review, %s, %s FROM rp_run WHERE fid IS NULL "
                        "ORDER BY ord").format(t, sql.SQL(", ").join(mc), sql.SQL(", ").join(mc)), [now, now])
                if stale_fid:
                    con.execute(sql.SQL(
                        "UPDATE {} c SET review = 'resolved', previous_review = s.prev "
                        "FROM unnest(%s::bigint[], %s::text[]) AS s(fid, prev) WHERE c.fid = s.fid").format(t),
                        [list(map(int, stale_fid)), list(stale_prev)])
                con.execute("DROP TABLE pg_temp.rp_run")
        except psycopg.Error as exc:
            raise _db_error(exc, p, layer="conflict") from None


def _run_csv(frame) -> bytes:
    """CSV bytes of a merge's rows (a DataFrame) for COPY ... (FORMAT csv): arrow_csv of its
    columns, NaN and NA as NULL; a column Arrow will not type goes as copy_text."""
    import pyarrow as pa

    arrays = []
    for c in frame.columns:
        try:
            arrays.append(pa.array(frame[c], from_pandas=True))
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, TypeError, ValueError):
            arrays.append(pa.array([copy_text(v) for v in frame[c]], pa.string()))
    return arrow_csv(list(frame.columns), arrays)


def arrow_csv(names, arrays) -> bytes:
    """Arrow arrays as CSV bytes for COPY ... (FORMAT csv), no header: NULL is an unquoted
    empty field, every string is quoted ("" and "\\N" included), floats in their shortest
    exact form."""
    import io as _io

    import pyarrow as pa
    from pyarrow import csv as pacsv

    buf = _io.BytesIO()
    pacsv.write_csv(pa.Table.from_arrays(arrays, names=names), buf,
                    pacsv.WriteOptions(include_header=False, quoting_style="needed"))
    return buf.getvalue()


def copy_text(x):
    """One value as the text COPY reads back as that value; None for NULL (None, NaN, NA)."""
    import numpy as np

    if x is None or (isinstance(x, (float, np.floating)) and x != x) or type(x).__name__ == "NAType":
        return None
    if isinstance(x, (bool, np.bool_)):
        return "true" if x else "false"
    if isinstance(x, (float, np.floating)):
        return repr(float(x))
    if isinstance(x, np.integer):
        return str(int(x))
    if hasattr(x, "isoformat"):
        return x.isoformat()
    return str(x)


def set_review(project: str, rows) -> int:
    """rows: [(review, reviewer, note, now, conflict_id)] -> rows changed."""
    psycopg = _psycopg()
    sql = _sql()
    p = PgProject(project)
    n = 0
    with _connection(p, write=True) as con:
        try:
            with con.transaction():
                cur = con.cursor()
                for r in rows:
                    cur.execute(sql.SQL(
                        "UPDATE {} SET review = %s, reviewer = %s, review_note = COALESCE(%s, review_note), "
                        "reviewed_at = %s, previous_review = NULL WHERE conflict_id = %s").format(
                        sql.Identifier(p.schema, "conflict")), r)
                    n += cur.rowcount
        except psycopg.Error as exc:
            raise _db_error(exc, p, layer="conflict") from None
    return n


def read_conflicts(project: str):
    df = read_layer(project, "conflict")
    return df.drop(columns=[df.geometry.name])


# --------------------------------------------------------------------------
# Roles


def grant(project: str, role: str, kind: str, owner: str = None, login: bool = True) -> str:
    """Create (if needed) database role ``role`` and give it ``kind`` rights on the project.

    viewer: reads everything. planner: reads everything, writes the plan
    layers (every thematic layer but the pipes), the conflict table (checks,
    reviews) and imports. utility: reads everything, writes pipe_point /
    pipe_segment rows whose owner is ``owner`` (row-level security), and
    import batches. Returns a one-line summary.
    """
    psycopg = _psycopg()
    sql = _sql()
    p = PgProject(project)
    if kind not in ROLE_KINDS:
        raise InputError(f"role kind must be one of {', '.join(ROLE_KINDS)}")
    if not isinstance(role, str) or not ROLE_RE.match(role):
        raise InputError(f"role name {role!r} is not allowed: use lower-case letters, digits and _ "
                         f"(at most 63, not starting with a digit)")
    if kind == "utility":
        if not owner or not str(owner).strip():
            raise InputError("--utility needs the owner (权属单位) whose pipes the role may edit")
    else:
        owner = None
    model = schema.model()
    s = p.schema
    r = sql.Identifier(role)
    con = connect(p)
    try:
        with con.transaction():
            project_info_con(con, p)
            if not con.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
                con.execute(sql.SQL("CREATE ROLE {} " + ("LOGIN" if login else "NOLOGIN")).format(r))
            con.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(sql.Identifier(s), r))
            con.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(sql.Identifier(s), r))
            con.execute(sql.SQL("GRANT USAGE ON ALL SEQUENCES IN SCHEMA {} TO {}").format(sql.Identifier(s), r))
            if con.execute("SELECT to_regclass('public.layer_styles')").fetchone()[0]:
                con.execute(sql.SQL("GRANT SELECT ON public.layer_styles TO {}").format(r))
            write = []
            if kind == "planner":
                write = [lyr.name for lyr in model.thematic if lyr.name not in RLS_LAYERS]
                write += ["conflict", "import_batch", "import_reject"]
            elif kind == "utility":
                write = list(RLS_LAYERS) + ["import_batch", "import_reject"]
            for t in write:
                con.execute(sql.SQL("GRANT INSERT, UPDATE, DELETE ON {} TO {}").format(
                    sql.Identifier(s, t), r))
            con.execute(sql.SQL(
                "INSERT INTO {} (role_name, kind, owner) VALUES (%s, %s, %s) ON CONFLICT (role_name) "
                "DO UPDATE SET kind = excluded.kind, owner = excluded.owner").format(
                sql.Identifier(s, ROLE_TABLE)), (role, kind, owner))
        con.commit()
    except psycopg.Error as exc:
        con.rollback()
        raise _db_error(exc, p) from None
    finally:
        con.close()
    what = {"viewer": "reads everything", "planner": "reads everything, writes plan layers, checks, reviews",
            "utility": f"reads everything, writes the pipes of {owner}"}[kind]
    return f"role {role} on {p.display}: {kind} ({what})"


def project_info_con(con, p: PgProject) -> dict:
    """The rp_project key/value table of ``p`` read on ``con``; an InputError
    when the schema or the table is missing or the database refuses."""
    sql = _sql()
    psycopg = _psycopg()
    if not con.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (p.schema,)).fetchone():
        raise InputError(f"no schema {p.schema} in the database", file=p.display)
    try:
        with con.transaction():
            rows = con.execute(sql.SQL("SELECT key, value FROM {}").format(
                sql.Identifier(p.schema, PROJECT_TABLE))).fetchall()
    except psycopg.errors.UndefinedTable:
        raise InputError(f"schema {p.schema} is not a Renewal Planner project (no rp_project table)",
                         file=p.display) from None
    except psycopg.Error as exc:
        raise _db_error(exc, p) from None
    return dict(rows)
