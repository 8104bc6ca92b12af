.PHONY: build test serve lint-config bench
build:
	swift build
test:
	scripts/test
serve:
	swift run meeseeks serve --config .
lint-config:
	swift run meeseeks lint --config . --strict
bench:
	scripts/bench
