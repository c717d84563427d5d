"""A run's whole life on disk, in one package:

    layout.py    where a run lives: the runs folder, run ids, the names of a run's files
    records.py   the typed records of those files (states, status, config, split, history lines)
                 and the process that owns a live run
    files.py     bytes: atomic writes, opening only regular files
    arrays.py    what the .npz files must hold, checked from their headers, and their values
    create.py    creating a run: its folder, config and status, and its split, built once
    split.py     the split handed from the process that creates a run to the one that trains it
    write.py     the one door every write to a run goes through (`RunWriter`)
    read.py      reading a run's files (`RunFolder`) and a run as read (`RunRecord`)
    listing.py   the runs folder: finding, reading, listing and deleting runs (`RunStore`)
    follow.py    following a run while it trains (new history lines only)
    reopen.py    a finished run's dataset and trained detector
    uploads.py   a user's upload kept with its run, or staged until the run exists

Nothing outside this package builds a run's path or writes a run's file. The modules are imported
by their own names (this package's `__init__` imports nothing)."""
