#!/usr/bin/env bash
# Draws one or more HdrHistogram percentile distributions (.hgrm files, as rtes-loadgen
# writes them: values in microseconds) into one PNG with gnuplot (Debian's gnuplot-nox),
# on the classic axis: 1/(1-percentile) on a log scale, labelled 0%, 90%, 99%, 99.9%, ...
#
#   benchmarks/plot-hgrm.sh [-o OUT.png] [-t TITLE] [--log-y] FILE.hgrm[=LABEL] ...
#
# Each FILE is one line, labelled LABEL (default: the file name without .hgrm). -o: the
# PNG (default hgrm.png); -t: the title; --log-y: latency on a log scale too. Exits
# non-zero, naming the problem, for a missing tool, an unreadable file or one with no
# percentile rows.
set -euo pipefail

out=hgrm.png
title="Latency by percentile"
logy=0
files=()
labels=()
usage() { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; }
while (($#)); do
    case $1 in
        -o) [ $# -ge 2 ] || { echo "plot-hgrm: -o needs a file name" >&2; exit 64; }; out=$2; shift 2 ;;
        -t) [ $# -ge 2 ] || { echo "plot-hgrm: -t needs a title" >&2; exit 64; }; title=$2; shift 2 ;;
        --log-y) logy=1; shift ;;
        -h | --help) usage; exit 0 ;;
        -*) echo "plot-hgrm: unknown option $1 (see --help)" >&2; exit 64 ;;
        *)
            file=${1%%=*}
            label=$(basename "$file" .hgrm)
            [[ $1 == *=* ]] && label=${1#*=}
            files+=("$file")
            labels+=("$label")
            shift
            ;;
    esac
done
((${#files[@]})) || { echo "plot-hgrm: no .hgrm file given (see --help)" >&2; exit 64; }
command -v gnuplot >/dev/null || { echo "plot-hgrm: gnuplot is not installed (apt-get install gnuplot-nox; .ci/deps installs it)" >&2; exit 69; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The percentile rows (Value Percentile TotalCount 1/(1-Percentile)), without the last one
# (1/(1-1) is infinite) and without the header and the summary lines.
plots=()
for i in "${!files[@]}"; do
    f=${files[$i]}
    [ -r "$f" ] || { echo "plot-hgrm: cannot read $f" >&2; exit 66; }
    awk 'NF == 4 && $1 ~ /^[0-9.]+$/ && $4 ~ /^[0-9.]+$/ { print $1, $2, $4 }' "$f" >"$tmp/$i.dat"
    [ -s "$tmp/$i.dat" ] || { echo "plot-hgrm: $f has no percentile rows (not an .hgrm file?)" >&2; exit 65; }
    # max and p99.9 for the key
    p999=$(awk '$2 >= 0.999 { print $1; exit }' "$tmp/$i.dat")
    max=$(awk '{ m = $1 } END { print m }' "$tmp/$i.dat")
    label=${labels[$i]//\"/}
    plots+=("'$tmp/$i.dat' using 3:1 with lines lw 2 title \"$label (p99.9 ${p999:-?} µs, max $max µs)\"")
done

{
    echo "set terminal pngcairo size 1000,560 enhanced font 'DejaVu Sans,10'"
    echo "set output '$out'"
    echo "set title \"${title//\"/}\""
    echo "set logscale x"
    echo "set xrange [1:1000000]"
    echo "set xtics ('0%%' 1, '90%%' 10, '99%%' 100, '99.9%%' 1000, '99.99%%' 10000, '99.999%%' 100000, '99.9999%%' 1000000)"
    echo "set xlabel 'percentile'"
    echo "set ylabel 'latency (µs)'"
    ((logy)) && echo "set logscale y"
    echo "set grid"
    echo "set key top left"
    (IFS=,; echo "plot ${plots[*]}")
} >"$tmp/plot.gp"
gnuplot "$tmp/plot.gp"
echo "plot-hgrm: wrote $out"
