# Shared test settings; each area lists its own tests in its fragment.
EXTRA_DIST += tests/unit/tap.h

# The bats suites, their helpers and the fixtures are copied from the source
# tree only (EXTRA_DIST of a directory would also pick up an out-of-tree
# build's test logs of the same name).
dist-hook: dist-tests
dist-tests:
	cd $(srcdir) && find tests/bats tests/fixtures tests/sim -type f \
		! -name '*.log' ! -name '*.trs' ! -name '*.o' ! -name '*.so' \
		! -name 'rebind-run' ! -name '.dirstamp' -print | \
		while read -r f; do \
			mkdir -p "$(abs_top_builddir)/$(distdir)/$$(dirname "$$f")" && \
			cp -p "$$f" "$(abs_top_builddir)/$(distdir)/$$f" || exit 1; \
		done
	chmod -R u+w $(distdir)/tests
.PHONY: dist-tests

