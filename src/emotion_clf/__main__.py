"""``python -m emotion_clf``: the same command line as ``emotion-clf``."""

from emotion_clf.cli import main

if __name__ == "__main__":
    main()
