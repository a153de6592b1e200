#!/usr/bin/env bash
# Render the gallery at the package defaults and store the executed outputs (text, figures,
# run times) in docs/auto_examples/, where every later documentation build reuses them.
#
#   bash docs/build_gallery.sh                   # the examples changed since their stored output
#   bash docs/build_gallery.sh plot_3_oversampling.py ...   # these too, even if unchanged
#   bash docs/build_gallery.sh --all             # every example
#
# Run it on an otherwise idle machine: the run time each page reports is measured here
# (torch on OMP_NUM_THREADS threads, 2 unless set). Then commit docs/auto_examples/.
set -euo pipefail
cd "$(dirname "$0")/.."

for name in "$@"; do
    if [[ "$name" == --all ]]; then
        rm -f docs/auto_examples/plot_*.py.md5
    else
        rm -f "docs/auto_examples/$(basename "${name%.py}").py.md5"
    fi
done

export OMP_NUM_THREADS="${OMP_NUM_THREADS:-2}" MPLBACKEND=Agg SKNCVQVAE_DOCS_RENDER=1
python -m sphinx -W -q -b html docs docs/_build/html
python docs/check_gallery.py
cat docs/sg_execution_times.rst | grep -E "^\s+(\*|-) " | paste - - - | sed -E 's/ +/ /g'
