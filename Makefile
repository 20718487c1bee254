.PHONY: run test lint bench
# The two commands of README.md; both set themselves up on a fresh machine.
run:
	scripts/dev.sh run
test:
	scripts/dev.sh test
lint:
	scripts/dev.sh lint
# Seeds realistic data in a throwaway PostgreSQL database and prints figures.
bench:
	scripts/dev.sh bench
