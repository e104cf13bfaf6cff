#!/bin/sh
# A load split over Kubernetes pods, end to end: stamp a shared start a minute ahead, run the
# workers (an Indexed Job), wait for them, merge their results (a second Job), and copy the
# run out of the results volume.
#
#   deploy/k8s/run.sh [WORKERS]          # default 4
#
# Environment: IMAGE (default agentcert:0.1.0), LEAD (seconds from now to the shared start,
# default 60: enough for every pod to be scheduled and pull the image), OUT (where the run is
# copied, default ./agentcert-k8s), KUBECTL (default kubectl; namespace and context as it has
# them). Exits with the merge's code: 0 thresholds held, 1 one missed, 2 the merge could not
# run; or 3 when the workers failed.
set -eu

here=$(CDPATH='' cd -- "$(dirname -- "$0")" && pwd)
workers=${1:-4}
image=${IMAGE:-agentcert:0.1.0}
lead=${LEAD:-60}
out=${OUT:-agentcert-k8s}
k=${KUBECTL:-kubectl}
case $workers in '' | *[!0-9]* | 0) echo "usage: $0 [WORKERS]  (a number of workers, 1 or more)" >&2; exit 2 ;; esac

start=$(($(date +%s) + lead))
run=run-$start

# Waits for Job $1 to finish; prints Complete or Failed.
finished() {
    while :; do
        state=$($k get job "$1" -o jsonpath='{.status.conditions[?(@.status=="True")].type}')
        case " $state " in
            *" Complete "*) echo Complete; return ;;
            *" Failed "*) echo Failed; return ;;
        esac
        sleep 5
    done
}

# A Job's pod template cannot change: the previous run's Jobs go first.
$k delete job agentcert-workers agentcert-merge --ignore-not-found
$k delete pod agentcert-fetch --ignore-not-found
$k apply -f "$here/configmap-target.yaml" -f "$here/pvc.yaml"

# The workers: completions = parallelism = WORKERS, the shared start and the image stamped in.
$k patch --local -o yaml -f "$here/job-workers.yaml" --type merge -p "{\"spec\":{\"completions\":$workers,\"parallelism\":$workers}}" |
    $k set env --local -o yaml -f - START_AT="$start" WORKERS="$workers" |
    $k set image --local -o yaml -f - agentcert="$image" |
    $k apply -f -
echo "run.sh: $workers workers start at unix $start ($lead s from now); results in /results/$run"

if [ "$(finished agentcert-workers)" = Failed ]; then
    echo "run.sh: a worker failed; see kubectl logs -l app.kubernetes.io/component=worker --prefix" >&2
    exit 3
fi

$k set env --local -o yaml -f "$here/job-merge.yaml" START_AT="$start" |
    $k set image --local -o yaml -f - agentcert="$image" |
    $k apply -f -
merged=$(finished agentcert-merge)
$k logs job/agentcert-merge
code=$($k get pods -l job-name=agentcert-merge -o jsonpath='{.items[0].status.containerStatuses[0].state.terminated.exitCode}')

$k set image --local -o yaml -f "$here/fetch-pod.yaml" agentcert="$image" | $k apply -f -
$k wait --for=condition=Ready pod/agentcert-fetch --timeout=300s
mkdir -p "$out"
$k cp "agentcert-fetch:/results/$run" "$out/$run"
$k delete pod agentcert-fetch --wait=false
echo "run.sh: merge $merged; the run is in $out/$run (merged/results.json, worker-*/)"
exit "${code:-2}"
