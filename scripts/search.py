#!/usr/bin/env python3
"""Small hyper-parameter search for `twotower train`: grid or seeded random sampling over config
overrides, resumable, selected on validation, reported on test.

Each trial trains with `build/twotower train --config BASE KEY=VALUE ... training.output_dir=OUT/tNN`
(validation Recall/NDCG@10/20 each epoch, best epoch kept), then scores the best epoch's
embeddings on the test split with `build/twotower evaluate --split test --no-baselines`.
A trial whose OUT/tNN/metrics_test.json exists is not run again (resume = run the same command).
Writes OUT/results.csv and OUT/results.md (sorted by the validation metric) and prints the winner.

usage: scripts/search.py --base configs/default.yaml --out runs/search-games \
           --set data.data_path=/tmp/q/games --set data.text_embeddings=/tmp/q/games/text_emb.npy \
           --grid training.temperature=0.05,0.1 --grid model.user_history=0,20 [--random N --seed S]
"""
import argparse, csv, itertools, json, os, random, subprocess, sys, time


def parse_grid(items):
    grid = {}
    for item in items:
        key, _, values = item.partition('=')
        if not values or '.' not in key:
            sys.exit(f'--grid {item!r}: expected section.key=v1,v2,...')
        grid[key] = values.split(',')
    return grid


def trials(grid, n_random, seed):
    keys = sorted(grid)
    combos = [dict(zip(keys, vs)) for vs in itertools.product(*(grid[k] for k in keys))]
    if n_random and n_random < len(combos):
        combos = random.Random(seed).sample(combos, n_random)
    return combos


def run(cmd, log):
    with open(log, 'w') as f:
        f.write(' '.join(cmd) + '\n'); f.flush()
        r = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        print(f'failed ({r.returncode}): {" ".join(cmd)}; see {log}', file=sys.stderr)
    return r.returncode == 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--base', default='configs/default.yaml')
    ap.add_argument('--out', required=True)
    ap.add_argument('--cli', default='build/twotower')
    ap.add_argument('--set', action='append', default=[], help='override for every trial (section.key=value)')
    ap.add_argument('--grid', action='append', default=[], help='section.key=v1,v2,... searched')
    ap.add_argument('--random', type=int, default=0, help='sample N grid points (seeded) instead of all')
    ap.add_argument('--seed', type=int, default=0)
    ap.add_argument('--select', default='recall@10', help='validation metric to select on (larger is better)')
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    grid = parse_grid(a.grid)
    rows = []
    for n, params in enumerate(trials(grid, a.random, a.seed)):
        run_dir = os.path.join(a.out, f't{n:02d}')
        overrides = a.set + [f'{k}={v}' for k, v in params.items()]
        metrics_path = os.path.join(run_dir, 'metrics_test.json')
        if not os.path.exists(metrics_path):
            os.makedirs(run_dir, exist_ok=True)
            with open(os.path.join(run_dir, 'overrides.txt'), 'w') as f:
                f.write('\n'.join(overrides) + '\n')
            t0 = time.time()
            ok = run([a.cli, 'train', '--config', a.base, *overrides, f'training.output_dir={run_dir}'],
                     os.path.join(run_dir, 'search_train.log'))
            ok = ok and run([a.cli, 'evaluate', '--run', run_dir, '--split', 'test', '--no-baselines',
                             '--k', '10,20'], os.path.join(run_dir, 'search_eval.log'))
            if not ok:
                continue
            print(f't{n:02d} {params} done in {time.time() - t0:.0f} s', flush=True)
        hist = json.load(open(os.path.join(run_dir, 'history.json')))
        best = hist['epochs'][hist['best_epoch'] - 1]
        test = json.load(open(metrics_path))
        model = test  # metrics_test.json holds the model's metrics at the top level
        rows.append({'trial': f't{n:02d}', **params,
                     'best_epoch': hist['best_epoch'], 'epochs': len(hist['epochs']),
                     'train_s': round(sum(e['seconds'] for e in hist['epochs']), 1),
                     'train_s_to_best': round(sum(e['seconds'] for e in hist['epochs'][:hist['best_epoch']]), 1),
                     **{f'valid_{k}': round(best.get(k, float('nan')), 4) for k in ('recall@10', 'ndcg@10', 'recall@20')},
                     **{f'test_{k}': round(model[k], 4) for k in ('recall@10', 'ndcg@10', 'recall@20', 'ndcg@20')}})
    if not rows:
        sys.exit('no finished trial')
    rows.sort(key=lambda r: -r[f'valid_{a.select}'])
    cols = list(rows[0].keys())
    for r in rows:
        cols += [c for c in r if c not in cols]
    with open(os.path.join(a.out, 'results.csv'), 'w', newline='') as f:
        w = csv.DictWriter(f, cols); w.writeheader(); w.writerows(rows)
    with open(os.path.join(a.out, 'results.md'), 'w') as f:
        f.write(f'Selected on validation {a.select}; base {a.base}; fixed: {" ".join(a.set)}\n\n')
        f.write('| ' + ' | '.join(cols) + ' |\n|' + '---|' * len(cols) + '\n')
        for r in rows:
            f.write('| ' + ' | '.join(str(r.get(c, '')) for c in cols) + ' |\n')
    print(open(os.path.join(a.out, 'results.md')).read())
    print('winner:', rows[0]['trial'], {k: rows[0][k] for k in grid})


if __name__ == '__main__':
    main()
