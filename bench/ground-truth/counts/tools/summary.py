#!/usr/bin/env python3
"""Check the hand-count JSON files and print per-clip totals (class x line x direction).
usage: python3 tools/summary.py [counts-dir]"""
import json, sys, glob, os, collections
d = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..')
CLS = {"car", "truck", "bus", "motorcycle", "bicycle", "person"}
grand = collections.Counter(); total = 0; ok = True
for f in sorted(glob.glob(os.path.join(d, '*.json'))):
    doc = json.load(open(f)); w = doc['window']; ids = {l['id'] for l in doc['lines']}
    for l in doc['lines']:
        for p in ('from', 'to'):
            if not (0 <= l[p]['x'] <= 1 and 0 <= l[p]['y'] <= 1): ok = False; print('BAD coord', f, l['id'])
    c = collections.Counter()
    for x in doc['crossings']:
        if x['line'] not in ids or x['cls'] not in CLS or x['direction'] not in ('forward', 'backward') \
           or not (w['fromS'] <= x['tS'] <= w['toS']):
            ok = False; print('BAD crossing', f, x)
        c[(x['line'], x['direction'], x['cls'])] += 1; grand[x['cls']] += 1
    n = len(doc['crossings']); total += n
    pa, pb = doc['passes']['A']['count'], doc['passes']['B']['count']
    print(f"{os.path.basename(f)}: {n} crossings in {w['fromS']}-{w['toS']} s (pass A {pa}, pass B {pb}, disagreements {len(doc['passes']['disagreements'])})")
    for k, v in sorted(c.items()): print(f"   {k[0]:8s} {k[1]:8s} {k[2]:10s} {v}")
print('TOTAL', total, dict(grand)); print('OK' if ok else 'PROBLEMS')
