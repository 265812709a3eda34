# Shared test settings; each area lists its own tests in its fragment.
EXTRA_DIST += tests/unit/tap.h tests/bats tests/fixtures
