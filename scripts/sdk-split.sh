#!/usr/bin/env bash
# Publishes the plugin SDK (SDK/) as a repository of its own, because SwiftPM
# takes a dependency by URL only from a repository with Package.swift at its
# root (docs/plugins.md, "Depending on the SDK").
#
# Usage: scripts/sdk-split.sh REMOTE [BRANCH]
#   REMOTE  a git URL or path to push to (a bare repository for a local try)
#   BRANCH  default main
#
# `git subtree split --prefix SDK` turns the history of SDK/ into commits
# whose tree is SDK/ alone; the same history always gives the same commits, so
# publishing again fast-forwards BRANCH. The split head is tagged with
# SDK/VERSION (SY_ABI_MAJOR.SY_ABI_MINOR.patch). An existing tag is never
# moved: the push fails, bump SDK/VERSION instead.
set -euo pipefail
cd "$(dirname "$0")/.."
remote="${1:-}"
branch="${2:-main}"
[[ -n "$remote" ]] || { echo "sdk-split: usage: scripts/sdk-split.sh REMOTE [BRANCH] (make sdk-split SDK_REMOTE=...)" >&2; exit 2; }
[[ -z "$(git status --porcelain -- SDK)" ]] || { echo "sdk-split: SDK/ has uncommitted changes; commit them first (the split takes committed history only)" >&2; exit 1; }
version="$(cat SDK/VERSION)"
commit="$(git subtree split --prefix SDK -q)"
tagged="$(git ls-remote "$remote" "refs/tags/$version" | cut -f1)"
if [[ -n "$tagged" && "$tagged" != "$commit" ]]; then
    echo "sdk-split: $remote already has tag $version at $tagged, and SDK/ is now $commit: bump SDK/VERSION (a published version never moves)" >&2
    exit 1
fi
git push "$remote" "$commit:refs/heads/$branch"
git push "$remote" "$commit:refs/tags/$version"
echo "sdk-split: SDK $version is $commit on $remote ($branch, tag $version)"
