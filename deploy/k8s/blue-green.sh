#!/usr/bin/env bash
# Blue-green release of Echo: start the new version beside the live one, check it, switch the
# Services' selectors to it, keep the old colour for an instant rollback.
#
#   deploy/k8s/blue-green.sh IMAGE            release IMAGE in the idle colour and switch to it
#   deploy/k8s/blue-green.sh --rollback       switch the Services back to the other colour
#
# Migrations run first and must be backward compatible (expand now, contract in a later release),
# since both colours share the databases while the release is in progress.
set -euo pipefail
NS=${NS:-echo}
SERVICES=(gateway users messages ai)

live_colour() { kubectl -n "$NS" get service echo-gateway -o jsonpath='{.spec.selector.color}'; }
other() { [ "$1" = blue ] && echo green || echo blue; }

switch_to() {
  for s in "${SERVICES[@]}"; do
    kubectl -n "$NS" patch service "echo-$s" -p "{\"spec\":{\"selector\":{\"app\":\"echo-$s\",\"color\":\"$1\"}}}"
  done
  echo "traffic now goes to $1"
}

if [ "${1:-}" = "--rollback" ]; then
  switch_to "$(other "$(live_colour)")"
  exit 0
fi
IMAGE=${1:?usage: blue-green.sh IMAGE | --rollback}
LIVE=$(live_colour)
NEXT=$(other "$LIVE")
echo "live: $LIVE, releasing $IMAGE as $NEXT"

# The migration Job of the base, re-run with the new image.
JOB="echo-migrate-$(date +%s)"
kubectl -n "$NS" get job echo-migrate -o json \
  | jq --arg name "$JOB" --arg img "$IMAGE" '
      .metadata = {name: $name} | del(.spec.selector, .status)
      | .spec.template.metadata.labels = {} | .spec.template.spec.containers[0].image = $img' \
  | kubectl -n "$NS" apply -f -
kubectl -n "$NS" wait --for=condition=complete "job/$JOB" --timeout=10m

for s in "${SERVICES[@]}"; do
  kubectl -n "$NS" get deployment "echo-$s" -o json \
    | jq --arg c "$NEXT" --arg img "$IMAGE" --arg name "echo-$s-$NEXT" '
        .metadata.name = $name | del(.metadata.resourceVersion, .metadata.uid, .metadata.creationTimestamp, .status)
        | .metadata.labels.color = $c | .spec.selector.matchLabels.color = $c
        | .spec.template.metadata.labels.color = $c | .spec.template.spec.containers[0].image = $img' \
    | kubectl -n "$NS" apply -f -
done
for s in "${SERVICES[@]}"; do
  kubectl -n "$NS" rollout status deployment "echo-$s-$NEXT" --timeout=5m
done
switch_to "$NEXT"
echo "the $LIVE deployments stay up for rollback; delete them once $NEXT has proven itself"
